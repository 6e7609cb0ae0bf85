"""Every API request needs a live token: a JSON 401 otherwise, never a redirect to /login/."""

import pytest
from django.test import Client

from cadency.accounts.models import User
from cadency.accounts.tokens import create_token, revoke_token
from tests.api.support import API, Api, api_for, error_of

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/enrollments"),
    ("get", "/enrollments/1"),
    ("post", "/enrollments"),
    ("post", "/enrollments/1/unenroll"),
    ("post", "/enrollments/unenroll"),
    ("get", "/contacts"),
    ("get", "/forecast"),
    ("post", "/tasks/1/complete"),
    ("post", "/inbound/1/relabel"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_no_token_is_a_json_401_not_a_redirect(method: str, path: str) -> None:
    response = getattr(Client(), method)(f"{API}{path}")
    message = error_of(response, 401, "unauthorized")
    assert "Bearer" in message


@pytest.mark.parametrize(
    "header",
    [
        "Bearer cdy_00000000_not-a-real-token-at-all",
        "Bearer nonsense",
        "Bearer ",
        "Token cdy_00000000_x",
        "Basic YWxpY2U6cGFzc3dvcmQ=",
    ],
)
def test_a_wrong_token_is_a_401(alice: User, header: str) -> None:
    response = Client(headers={"Authorization": header}).get(f"{API}/enrollments")
    error_of(response, 401, "unauthorized")


def test_a_token_with_a_right_prefix_and_a_wrong_secret_is_a_401(alice: User) -> None:
    issued = create_token(user=alice, name="ci")
    forged = issued.secret[:-4] + ("AAAA" if not issued.secret.endswith("AAAA") else "BBBB")
    error_of(api_for(token=forged).get("/enrollments"), 401, "unauthorized")


def test_a_revoked_token_is_a_401_at_once(alice: User) -> None:
    issued = create_token(user=alice, name="ci")
    client = api_for(token=issued.secret)
    assert client.get("/enrollments").status_code == 200
    revoke_token(token=issued.token, actor=alice)
    error_of(client.get("/enrollments"), 401, "unauthorized")


def test_a_deactivated_users_token_is_a_401(alice: User) -> None:
    client = api_for(alice)
    alice.is_active = False
    alice.save()
    error_of(client.get("/enrollments"), 401, "unauthorized")


def test_a_signed_in_browser_session_is_not_enough(alice: User) -> None:
    client = Client()
    client.force_login(alice)
    error_of(client.get(f"{API}/enrollments"), 401, "unauthorized")


def test_a_valid_token_is_accepted(as_alice: Api) -> None:
    assert as_alice.get("/enrollments").status_code == 200


def test_an_unknown_api_path_is_a_json_404(as_alice: Api) -> None:
    error_of(as_alice.get("/no-such-thing"), 404, "not_found")
    error_of(Client().get("/api/v2/enrollments"), 404, "not_found")


def test_a_wrong_method_is_a_json_405(as_alice: Api) -> None:
    response = as_alice.client.put(f"{API}/enrollments")
    assert "PUT" in error_of(response, 405, "method_not_allowed")
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}
