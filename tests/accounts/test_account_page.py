"""/account/: who you are and your API tokens (create, shown once; list; revoke)."""

import re

import pytest
from django.test import Client

from cadency.accounts.models import ApiToken, User
from cadency.accounts.tokens import authenticate_token, create_token
from cadency.ledger.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def test_it_needs_a_signed_in_user() -> None:
    response = Client().get("/account/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_it_shows_name_role_and_tokens(signed_in: Client, alice: User, bob: User) -> None:
    create_token(user=alice, name="CRM sync")
    create_token(user=bob, name="Bob's script")
    page = signed_in.get("/account/").content.decode()
    assert "Alice Archer" in page and "Rep" in page
    assert "CRM sync" in page and ApiToken.objects.get(user=alice).prefix in page
    assert "Bob&#x27;s script" not in page and "Bob's script" not in page


def test_creating_a_token_shows_it_once(signed_in: Client, alice: User) -> None:
    response = signed_in.post("/account/tokens/", {"name": "CRM sync"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    match = re.search(r'value="(cdy_[0-9a-f]{8}_[^"]+)"', html)
    assert match, "the new token is shown"
    secret = match.group(1)
    assert authenticate_token(secret) == alice
    assert "shown only this once" in html
    assert secret not in signed_in.get("/account/").content.decode()


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_bad_name_creates_nothing_and_says_why(signed_in: Client, name: str) -> None:
    response = signed_in.post("/account/tokens/", {"name": name})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoking_asks_for_confirmation_then_revokes(signed_in: Client, alice: User) -> None:
    issued = create_token(user=alice, name="CRM sync")
    page = signed_in.get("/account/").content.decode()
    form = re.search(r'<form[^>]+action="/account/tokens/(\d+)/revoke/"[^>]*>', page)
    assert form and "data-confirm=" in form.group(0)
    response = signed_in.post(f"/account/tokens/{issued.token.pk}/revoke/", follow=True)
    assert "Revoked the token" in response.content.decode()
    assert authenticate_token(issued.secret) is None
    assert Event.objects.filter(kind="api_token_revoked", actor=alice).exists()


def test_revoking_twice_says_so(signed_in: Client, alice: User) -> None:
    issued = create_token(user=alice, name="CRM sync")
    signed_in.post(f"/account/tokens/{issued.token.pk}/revoke/")
    response = signed_in.post(f"/account/tokens/{issued.token.pk}/revoke/", follow=True)
    assert "already revoked" in response.content.decode()


def test_another_users_token_cannot_be_revoked_here(signed_in: Client, bob: User) -> None:
    issued = create_token(user=bob, name="Bob's script")
    assert signed_in.post(f"/account/tokens/{issued.token.pk}/revoke/").status_code == 404
    assert signed_in.post("/account/tokens/999/revoke/").status_code == 404
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is None


def test_revoking_needs_a_post(signed_in: Client, alice: User) -> None:
    issued = create_token(user=alice, name="CRM sync")
    assert signed_in.get(f"/account/tokens/{issued.token.pk}/revoke/").status_code == 405
    assert signed_in.get("/account/tokens/").status_code == 405
