"""Pairing a panel with a user: start, approve while signed in, claim the token once."""

import datetime as dt
import hashlib
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from cadency.accounts.models import ApiToken, User
from cadency.accounts.tokens import authenticate_token
from cadency.ledger.models import Event
from cadency.sidebar.models import Pairing
from cadency.sidebar.pairing import normalize_code

pytestmark = pytest.mark.django_db


def start(client: str | None = "gmail") -> dict[str, Any]:
    body = {} if client is None else {"client": client}
    panel = Client(enforce_csrf_checks=True)  # the panel has no CSRF token: none is needed
    response = panel.post("/sidebar/pairing/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    started: dict[str, Any] = response.json()
    return started


def claim(secret: str) -> Any:
    panel = Client(enforce_csrf_checks=True)
    return panel.post("/sidebar/pairing/claim/", {"pairing": secret}, "application/json")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def approve(user: User, code: str) -> Any:
    return signed_in(user).post(f"/sidebar/pair/{code}/")


def test_starting_gives_a_secret_a_code_and_the_approval_page() -> None:
    started = start()
    assert set(started) == {"pairing", "code", "approve_url", "expires_in"}
    assert len(started["pairing"]) >= 43  # 32 random bytes, urlsafe
    assert started["code"] == normalize_code(started["code"]) and len(started["code"]) == 9
    assert started["approve_url"] == f"http://testserver/sidebar/pair/{started['code']}/"
    assert started["expires_in"] == 600
    pairing = Pairing.objects.get()
    assert (pairing.code, pairing.client) == (started["code"], "gmail")
    assert pairing.secret_hash == hashlib.sha256(started["pairing"].encode()).hexdigest()
    stored = " ".join(str(value) for value in Pairing.objects.values_list().get())
    assert started["pairing"] not in stored


def test_a_panel_that_names_no_client_is_the_gmail_one_and_an_unknown_client_is_refused() -> None:
    start(None)
    assert Pairing.objects.get().client == "gmail"
    response = Client().post("/sidebar/pairing/", {"client": "thunderbird"}, "application/json")
    assert response.status_code == 400 and "gmail, outlook" in response.json()["detail"]
    assert Pairing.objects.count() == 1


def test_claiming_before_approval_is_pending() -> None:
    response = claim(start()["pairing"])
    assert response.status_code == 202 and response.json() == {"status": "pending"}
    assert not ApiToken.objects.exists()


def test_approving_then_claiming_hands_out_a_token_for_the_approver_once(alice: User) -> None:
    started = start()
    assert approve(alice, started["code"]).status_code == 200

    response = claim(started["pairing"])

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "approved" and body["user"] == "Alice Archer"
    assert authenticate_token(body["token"]) == alice
    token = ApiToken.objects.get()
    assert (token.user, token.name) == (alice, "Gmail sidebar")
    assert "no-store" in response["Cache-Control"]
    pairing = Pairing.objects.get()
    assert pairing.token == token and pairing.claimed_at is not None
    kinds = list(Event.objects.filter(actor=alice).values_list("kind", flat=True))
    assert kinds == ["sidebar_pairing_approved", "api_token_created", "sidebar_paired"]
    assert body["token"] not in str(list(Event.objects.values_list("sentence", "data")))

    replay = claim(started["pairing"])
    assert replay.status_code == 410 and replay.json()["status"] == "gone"
    assert "already used" in replay.json()["detail"]
    assert ApiToken.objects.count() == 1


def test_the_outlook_add_in_gets_a_token_named_after_it(alice: User) -> None:
    started = start("outlook")
    approve(alice, started["code"])
    claim(started["pairing"])
    assert ApiToken.objects.get().name == "Outlook add-in"


def test_an_expired_pairing_is_gone_and_gives_nothing(alice: User) -> None:
    started = start()
    approve(alice, started["code"])
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=10, seconds=1)):
        response = claim(started["pairing"])
    assert response.status_code == 410 and "expired" in response.json()["detail"]
    assert not ApiToken.objects.exists()
    assert Pairing.objects.get().claimed_at is None


def test_an_expired_code_cannot_be_approved(alice: User) -> None:
    started = start()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        page = signed_in(alice).get(f"/sidebar/pair/{started['code']}/")
        response = approve(alice, started["code"])
    assert page.status_code == 410 and "expired" in page.content.decode()
    assert response.status_code == 410
    assert Pairing.objects.get().approved_by is None
    assert not Event.objects.filter(kind="sidebar_pairing_approved").exists()


def test_a_forged_secret_gets_404_and_nothing(alice: User) -> None:
    started = start()
    approve(alice, started["code"])
    forged = started["pairing"][:-2] + ("AA" if not started["pairing"].endswith("AA") else "BB")
    response = claim(forged)
    assert response.status_code == 404 and response.json()["status"] == "unknown"
    assert not ApiToken.objects.exists()
    assert Pairing.objects.get().claimed_at is None


@pytest.mark.parametrize("body", [{}, {"pairing": ""}, {"pairing": 12}, ["x"]])
def test_a_claim_without_a_secret_is_a_bad_request(body: Any) -> None:
    response = Client().post("/sidebar/pairing/claim/", body, "application/json")
    assert response.status_code == 400 and "pairing" in response.json()["detail"]


def test_the_secret_is_never_read_from_the_url(alice: User) -> None:
    started = start()
    approve(alice, started["code"])
    response = Client().post(f"/sidebar/pairing/claim/?pairing={started['pairing']}")
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_the_approval_page_needs_a_signed_in_user() -> None:
    code = start()["code"]
    response = Client().get(f"/sidebar/pair/{code}/")
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next=/sidebar/pair/{code}/"
    assert Client().post(f"/sidebar/pair/{code}/").status_code == 302
    assert Pairing.objects.get().approved_by is None


def test_the_approval_page_shows_the_code_the_client_and_the_user(alice: User) -> None:
    code = start("outlook")["code"]
    response = signed_in(alice).get(f"/sidebar/pair/{code}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert code in html and "Outlook add-in" in html and "Alice Archer (alice)" in html
    assert '<button type="submit">Connect</button>' in html
    assert Pairing.objects.get().approved_by is None  # looking approves nothing


def test_the_approval_page_is_never_framed(alice: User) -> None:
    response = signed_in(alice).get(f"/sidebar/pair/{start()['code']}/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_approving_needs_the_csrf_token(alice: User) -> None:
    code = start()["code"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(f"/sidebar/pair/{code}/").status_code == 403
    assert Pairing.objects.get().approved_by is None

    page = client.get(f"/sidebar/pair/{code}/")
    token = page.context["csrf_token"]
    response = client.post(f"/sidebar/pair/{code}/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 200 and "Connected" in response.content.decode()
    assert Pairing.objects.get().approved_by == alice


def test_approving_twice_changes_nothing_and_another_user_cannot_take_the_code(
    alice: User, bob: User
) -> None:
    code = start()["code"]
    approve(alice, code)
    again = approve(alice, code)
    assert again.status_code == 200 and "Connected" in again.content.decode()
    assert Event.objects.filter(kind="sidebar_pairing_approved").count() == 1

    taken = approve(bob, code)
    assert taken.status_code == 410 and "already approved by another user" in taken.content.decode()
    assert Pairing.objects.get().approved_by == alice


def test_an_unknown_code_is_404(alice: User) -> None:
    response = approve(alice, "ZZZZ-ZZZZ")
    assert response.status_code == 404 and "no pairing" in response.content.decode()


def test_a_used_code_cannot_be_approved_again(alice: User) -> None:
    started = start()
    approve(alice, started["code"])
    claim(started["pairing"])
    response = approve(alice, started["code"])
    assert response.status_code == 410 and "already used" in response.content.decode()


def test_codes_are_read_however_the_user_types_them() -> None:
    assert normalize_code("abcd efgh") == normalize_code("ABCDEFGH") == "ABCD-EFGH"
    assert normalize_code(" abcd-efgh ") == "ABCD-EFGH"


def test_old_pairings_are_cleared_when_a_new_one_starts() -> None:
    start()
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        start()
    assert Pairing.objects.count() == 1
