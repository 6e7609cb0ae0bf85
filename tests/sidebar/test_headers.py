"""Who may frame the sidebar and which origins may call it (CSP frame-ancestors, CORS)."""

import json
import re

import pytest
from django.test import Client
from pytest_django.fixtures import SettingsWrapper

from cadency.accounts.models import User
from cadency.sidebar.http import origin_pattern
from tests.sidebar.conftest import bearer

pytestmark = pytest.mark.django_db

EXTENSION = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"
DEFAULT_ANCESTORS = (
    "frame-ancestors 'self' https://mail.google.com chrome-extension://* "
    "https://outlook.office.com https://outlook.office365.com https://outlook.live.com "
    "https://*.officeapps.live.com"
)
CORS_PATHS = ["/sidebar/pairing/", "/sidebar/pairing/claim/", "/sidebar/panel/"]


def preflight(path: str, origin: str) -> dict[str, str]:
    response = Client().options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    return dict(response.headers)


@pytest.mark.parametrize("client", ["gmail", "outlook"])
def test_the_page_may_be_framed_by_the_mail_clients_only(client: str) -> None:
    response = Client().get("/sidebar/", {"client": client})
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == DEFAULT_ANCESTORS
    assert "X-Frame-Options" not in response


def test_the_frame_ancestors_come_from_the_setting(settings: SettingsWrapper) -> None:
    settings.CADENCY_SIDEBAR_FRAME_ANCESTORS = ["https://mail.example.test", "bad; script-src *"]
    response = Client().get("/sidebar/")
    assert response["Content-Security-Policy"] == "frame-ancestors https://mail.example.test"


def test_the_fragments_carry_the_same_policy(alice: User) -> None:
    response = bearer(alice).get("/sidebar/panel/")
    assert response["Content-Security-Policy"] == DEFAULT_ANCESTORS
    assert "X-Frame-Options" not in response


def test_other_pages_still_refuse_every_frame() -> None:
    assert Client().get("/login/")["X-Frame-Options"] == "DENY"


def test_office_js_is_loaded_in_outlook_mode_only() -> None:
    office = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js"
    assert office in Client().get("/sidebar/?client=outlook").content.decode()
    assert office not in Client().get("/sidebar/?client=gmail").content.decode()


def test_an_unknown_client_is_a_bad_request() -> None:
    assert Client().get("/sidebar/?client=thunderbird").status_code == 400


def test_the_page_tells_its_script_the_allowed_origins(settings: SettingsWrapper) -> None:
    settings.CADENCY_SIDEBAR_ORIGINS = ["chrome-extension://*", "https://mail.example.test"]
    html = Client().get("/sidebar/?client=gmail").content.decode()
    found = re.search(r'<script id="sidebar-config" type="application/json">(.*?)</script>', html)
    assert found
    config = json.loads(found.group(1))
    assert config["client"] == "gmail"
    assert config["origins"] == ["chrome-extension://*", "https://mail.example.test"]
    assert config["urls"]["claim"] == "/sidebar/pairing/claim/"


@pytest.mark.parametrize("path", CORS_PATHS)
@pytest.mark.parametrize("origin", [EXTENSION, "https://mail.google.com"])
def test_an_allowed_origin_gets_the_cors_headers(path: str, origin: str) -> None:
    headers = preflight(path, origin)
    assert headers["Access-Control-Allow-Origin"] == origin
    assert headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in headers
    assert "Origin" in headers["Vary"]


@pytest.mark.parametrize("path", CORS_PATHS)
@pytest.mark.parametrize(
    "origin",
    [
        "https://attacker.test",
        "https://mail.google.com.attacker.test",
        "http://mail.google.com",
        "null",
        "chrome-extension://abc/../x",
    ],
)
def test_another_origin_gets_no_cors_headers(path: str, origin: str) -> None:
    headers = preflight(path, origin)
    assert not any(name.startswith("Access-Control-") for name in headers)


def test_the_actions_answer_preflights_too(alice: User) -> None:
    for path in ["/sidebar/enrollments/1/unenroll/", "/sidebar/contacts/", "/sidebar/disconnect/"]:
        assert preflight(path, EXTENSION)["Access-Control-Allow-Origin"] == EXTENSION


def test_responses_are_readable_by_an_allowed_origin_only(alice: User) -> None:
    client = bearer(alice)
    allowed = client.get("/sidebar/panel/", headers={"Origin": EXTENSION})
    assert allowed.status_code == 200
    assert allowed["Access-Control-Allow-Origin"] == EXTENSION
    other = client.get("/sidebar/panel/", headers={"Origin": "https://attacker.test"})
    assert other.status_code == 200 and "Access-Control-Allow-Origin" not in other
    assert "Origin" in other["Vary"]


def test_a_pairing_started_cross_origin_is_readable_by_the_extension() -> None:
    response = Client().post(
        "/sidebar/pairing/", {"client": "gmail"}, "application/json", headers={"Origin": EXTENSION}
    )
    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == EXTENSION


def test_the_origin_list_is_a_setting(settings: SettingsWrapper) -> None:
    settings.CADENCY_SIDEBAR_ORIGINS = ["https://mail.example.test"]
    assert "Access-Control-Allow-Origin" not in preflight("/sidebar/panel/", EXTENSION)
    assert preflight("/sidebar/panel/", "https://mail.example.test")["Access-Control-Allow-Origin"]


@pytest.mark.parametrize(
    ("pattern", "origin", "matches"),
    [
        ("https://*.officeapps.live.com", "https://eu1.officeapps.live.com", True),
        ("https://*.officeapps.live.com", "https://officeapps.live.com", False),
        ("https://*.officeapps.live.com", "https://evil.test/.officeapps.live.com", False),
        ("chrome-extension://*", "chrome-extension://abcdefghijklmnop", True),
        ("chrome-extension://*", "chrome-extension://", False),
        ("https://mail.google.com/", "https://mail.google.com", True),
        ("http://localhost:8000", "http://localhost:8000", True),
        ("http://localhost:8000", "http://localhost:8001", False),
    ],
)
def test_origin_patterns(pattern: str, origin: str, matches: bool) -> None:
    assert bool(origin_pattern(pattern).fullmatch(origin)) is matches


@pytest.mark.parametrize("size", [16, 32, 64, 80, 128])
def test_the_icons_the_outlook_manifests_name_are_served(size: int) -> None:
    response = Client().get(f"/static/sidebar/outlook/icon-{size}.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
