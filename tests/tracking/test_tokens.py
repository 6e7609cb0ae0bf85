"""Click and open tokens: only Cadency makes them; any change or truncation breaks them."""

from collections.abc import Callable

import pytest
from django.core import signing

from cadency.tracking.tokens import (
    ClickClaim,
    InvalidToken,
    make_click_token,
    make_open_token,
    read_click_token,
    read_open_token,
)

CLAIM = ClickClaim(run_id=12, index=1, url="https://www.example.com/pricing?plan=team")


def test_a_click_token_carries_the_run_the_index_and_the_url() -> None:
    assert read_click_token(make_click_token(CLAIM)) == CLAIM


def test_an_open_token_carries_the_run() -> None:
    assert read_open_token(make_open_token(12)) == 12


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: t[:-1],
        lambda t: t[: len(t) // 2],
        lambda t: t[:5] + ("A" if t[5] != "A" else "B") + t[6:],
        lambda t: t.replace(":", ":x", 1),
        lambda t: "",
        lambda t: "not-a-token",
    ],
    ids=["last character cut", "half", "payload altered", "signature moved", "empty", "junk"],
)
def test_an_altered_or_truncated_click_token_is_refused(damage: Callable[[str], str]) -> None:
    with pytest.raises(InvalidToken):
        read_click_token(damage(make_click_token(CLAIM)))


def test_an_open_token_is_not_a_click_token_and_back() -> None:
    with pytest.raises(InvalidToken):
        read_click_token(make_open_token(12))
    with pytest.raises(InvalidToken):
        read_open_token(make_click_token(CLAIM))


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,hi", "//evil.example.net/", "ftp://x.test/"]
)
def test_a_signed_token_for_anything_but_a_web_address_is_refused(url: str) -> None:
    token = signing.Signer(salt="click").sign_object([12, 0, url], compress=True)
    with pytest.raises(InvalidToken):
        read_click_token(token)


def test_a_signed_payload_of_another_shape_is_refused() -> None:
    for payload in ({"r": 12}, [12, "0", "https://x.test/"], [True, 0, "https://x.test/"]):
        token = signing.Signer(salt="click").sign_object(payload)
        with pytest.raises(InvalidToken):
            read_click_token(token)
    with pytest.raises(InvalidToken):
        read_open_token(signing.Signer(salt="open").sign_object("12"))
