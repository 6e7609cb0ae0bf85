"""Signed tokens in tracked URLs: a click names the run, the link's index and its URL;
the open image names the run. Only Cadency can make one, and any change breaks it."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core import signing

CLICK_SALT = "click"
OPEN_SALT = "open"
SCHEMES = ("http", "https")


class InvalidToken(Exception):
    """The token was forged, altered, truncated or names no http(s) URL."""


@dataclass(frozen=True)
class ClickClaim:
    run_id: int
    index: int  # 0-based, among the tracked URLs of the body
    url: str


def make_click_token(claim: ClickClaim) -> str:
    payload = [claim.run_id, claim.index, claim.url]
    return signing.Signer(salt=CLICK_SALT).sign_object(payload, compress=True)


def read_click_token(token: str) -> ClickClaim:
    try:
        payload = signing.Signer(salt=CLICK_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError) as exc:
        raise InvalidToken("the link was altered or copied incompletely") from exc
    match payload:
        case [int(run_id), int(index), str(url)] if whole(run_id, index) and is_web_url(url):
            return ClickClaim(run_id=run_id, index=index, url=url)
    raise InvalidToken("the link names no web address")


def make_open_token(run_id: int) -> str:
    return signing.Signer(salt=OPEN_SALT).sign_object(run_id)


def read_open_token(token: str) -> int:
    try:
        run_id = signing.Signer(salt=OPEN_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError) as exc:
        raise InvalidToken("the image address was altered") from exc
    if not isinstance(run_id, int) or not whole(run_id):
        raise InvalidToken("the image address names no email")
    return run_id


def whole(*numbers: int) -> bool:
    """JSON's true and false are ints to Python: not ids."""
    return not any(isinstance(n, bool) for n in numbers)


def is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in SCHEMES and bool(parts.netloc)
