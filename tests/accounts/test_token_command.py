"""`cadency user token create|list|revoke`."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cadency.accounts.models import ApiToken, User
from cadency.accounts.tokens import authenticate_token, create_token

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("user", "token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_prints_the_token_once_on_stdout(alice: User) -> None:
    out, err = run("create", "alice", "--name", "CRM sync")
    secret = out.strip()
    assert authenticate_token(secret) == alice
    assert "not shown again" in err and secret not in err


def test_create_as_json(alice: User) -> None:
    data = json.loads(run("create", "alice", "--name", "ci", "--json")[0])
    assert authenticate_token(data["token"]) == alice
    assert data["prefix"] == data["token"][:12] and data["user"] == "alice"


def test_create_refuses_a_bad_name_or_user(alice: User) -> None:
    with pytest.raises(CommandError, match="name"):
        run("create", "alice", "--name", " ")
    with pytest.raises(CommandError, match="no user"):
        run("create", "nobody", "--name", "ci")
    assert not ApiToken.objects.exists()


def test_list_never_shows_a_secret(alice: User, bob: User) -> None:
    issued = create_token(user=alice, name="CRM sync")
    create_token(user=bob, name="script")
    out, _ = run("list")
    assert "CRM sync" in out and "script" in out and issued.token.prefix in out
    assert issued.secret not in out
    mine = json.loads(run("list", "--user", "alice", "--json")[0])
    assert [t["name"] for t in mine] == ["CRM sync"]
    assert "secret_hash" not in mine[0]


def test_revoke_by_prefix_or_id(alice: User) -> None:
    first = create_token(user=alice, name="one")
    second = create_token(user=alice, name="two")
    assert "Revoked" in run("revoke", first.token.prefix, "--as", "alice")[0]
    assert "Revoked" in run("revoke", str(second.token.pk), "--as", "alice")[0]
    assert authenticate_token(first.secret) is None and authenticate_token(second.secret) is None
    assert "already revoked" in run("revoke", first.token.prefix, "--as", "alice")[0]


def test_a_rep_cannot_revoke_another_users_token(alice: User, bob: User, admin: User) -> None:
    issued = create_token(user=alice, name="ci")
    with pytest.raises(CommandError, match="another user"):
        run("revoke", issued.token.prefix, "--as", "bob")
    assert authenticate_token(issued.secret) == alice
    run("revoke", issued.token.prefix, "--as", "ada")
    assert authenticate_token(issued.secret) is None


def test_revoking_an_unknown_token_says_so(alice: User) -> None:
    with pytest.raises(CommandError, match="no API token"):
        run("revoke", "cdy_00000000", "--as", "alice")
