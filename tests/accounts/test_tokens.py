"""API tokens: shown once, stored as a hash, found by prefix, revoked at once."""

import datetime as dt
import hashlib

import pytest
import time_machine
from django.utils import timezone

from cadency.accounts.models import ApiToken, User
from cadency.accounts.tokens import (
    TokenError,
    authenticate_token,
    create_token,
    revoke_token,
)
from cadency.ledger.models import Event

pytestmark = pytest.mark.django_db


def test_it_creates_a_token_and_keeps_only_a_hash_of_it(alice: User) -> None:
    issued = create_token(user=alice, name="  CRM sync ")
    token = ApiToken.objects.get()
    assert (token.user, token.name) == (alice, "CRM sync")
    assert issued.secret.startswith(f"{token.prefix}_") and len(issued.secret) > 40
    assert token.prefix.startswith("cdy_") and len(token.prefix) == 12
    assert token.secret_hash == hashlib.sha256(issued.secret.encode()).hexdigest()
    stored = " ".join(str(v) for v in ApiToken.objects.values_list().get())
    assert issued.secret not in stored
    event = Event.objects.get(kind="api_token_created")
    assert event.actor == alice and token.prefix in event.sentence
    assert issued.secret not in event.sentence + str(event.data)


def test_two_tokens_never_share_a_prefix_or_a_secret(alice: User) -> None:
    first, second = create_token(user=alice, name="a"), create_token(user=alice, name="b")
    assert first.token.prefix != second.token.prefix
    assert first.secret != second.secret


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_bad_name_is_refused_and_nothing_is_written(alice: User, name: str) -> None:
    with pytest.raises(TokenError):
        create_token(user=alice, name=name)
    assert not ApiToken.objects.exists()
    assert not Event.objects.filter(kind="api_token_created").exists()


def test_a_deactivated_user_gets_no_token(alice: User) -> None:
    alice.is_active = False
    alice.save()
    with pytest.raises(TokenError, match="deactivated"):
        create_token(user=alice, name="ci")


def test_it_authenticates_a_live_token_and_notes_its_use(alice: User) -> None:
    issued = create_token(user=alice, name="ci")
    assert authenticate_token(issued.secret) == alice
    assert authenticate_token(f"  {issued.secret}\n") == alice
    issued.token.refresh_from_db()
    assert issued.token.last_used_at is not None


def test_last_use_is_written_at_most_once_a_minute(alice: User) -> None:
    issued = create_token(user=alice, name="ci")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        authenticate_token(issued.secret)
    with time_machine.travel(start + dt.timedelta(seconds=30), tick=False):
        authenticate_token(issued.secret)
    issued.token.refresh_from_db()
    assert issued.token.last_used_at == start
    with time_machine.travel(start + dt.timedelta(minutes=2), tick=False):
        authenticate_token(issued.secret)
    issued.token.refresh_from_db()
    assert issued.token.last_used_at == start + dt.timedelta(minutes=2)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "cdy_",
        "nonsense",
        "cdy_12345678",
        "cdy_12345678_wrong",
        "cdy_1234567_x_shifted",
        "cdy_1234\x0078_nul",
    ],
)
def test_malformed_or_unknown_tokens_authenticate_nobody(alice: User, text: str) -> None:
    create_token(user=alice, name="ci")
    assert authenticate_token(text) is None


def test_a_right_prefix_with_a_wrong_secret_authenticates_nobody(alice: User) -> None:
    issued = create_token(user=alice, name="ci")
    assert authenticate_token(f"{issued.token.prefix}_{'A' * 43}") is None


def test_a_revoked_token_authenticates_nobody(alice: User) -> None:
    issued = create_token(user=alice, name="ci")
    assert revoke_token(token=issued.token, actor=alice) is True
    assert issued.token.revoked_at is not None
    assert authenticate_token(issued.secret) is None
    event = Event.objects.get(kind="api_token_revoked")
    assert event.actor == alice and issued.token.prefix in event.sentence


def test_revoking_twice_changes_nothing(alice: User) -> None:
    issued = create_token(user=alice, name="ci")
    revoke_token(token=issued.token, actor=alice)
    events = Event.objects.count()
    assert revoke_token(token=issued.token, actor=alice) is False
    assert Event.objects.count() == events


def test_a_deactivated_users_tokens_authenticate_nobody(alice: User) -> None:
    issued = create_token(user=alice, name="ci")
    alice.is_active = False
    alice.save()
    assert authenticate_token(issued.secret) is None


def test_a_user_cannot_revoke_another_users_token(alice: User, bob: User) -> None:
    issued = create_token(user=alice, name="ci")
    with pytest.raises(TokenError, match="another user"):
        revoke_token(token=issued.token, actor=bob)
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is None


def test_an_admin_may_revoke_anyones_token(alice: User, admin: User) -> None:
    issued = create_token(user=alice, name="ci")
    assert revoke_token(token=issued.token, actor=admin) is True
    assert "of Alice Archer" in Event.objects.get(kind="api_token_revoked").sentence
