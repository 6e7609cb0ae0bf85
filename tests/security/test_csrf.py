"""CSRF: every page URL, walked from the URL resolver, refuses a signed-in user's
POST that carries the CSRF cookie but not the token (what another site can make a
browser send), and nothing changes. The few views exempt from CSRF are listed with
the reason, and each refuses a request without its own credential."""

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from cadency.api.main import api
from cadency.sidebar.models import Pairing
from tests.security.routes import Route, all_routes, app_routes
from tests.security.world import World, changes, snapshot


@dataclass(frozen=True)
class Exempt:
    reason: str
    status: int  # the answer to a POST without the view's own credential
    may_change: frozenset[str] = frozenset()


BEARER = "the mail-client sidebar: a Bearer API token, never cookies, so no CSRF"
EXEMPT: dict[str, Exempt] = {
    "unsubscribe": Exempt(
        "RFC 8058 one-click List-Unsubscribe: mail providers POST without a CSRF token; "
        "the signed token in the URL is the credential",
        400,
    ),
    "tracking:click": Exempt("GET and HEAD only; the signed token is the credential", 405),
    "tracking:open": Exempt("GET and HEAD only; the signed token is the credential", 405),
    "sidebar:unenroll": Exempt(BEARER, 401),
    "sidebar:pause": Exempt(BEARER, 401),
    "sidebar:resume": Exempt(BEARER, 401),
    "sidebar:enroll": Exempt(BEARER, 401),
    "sidebar:create_contact": Exempt(BEARER, 401),
    "sidebar:disconnect": Exempt(BEARER + "; without one it only answers the fragment", 200),
    "sidebar:claim": Exempt("the pairing secret in the body is the credential", 400),
    "sidebar:pairing": Exempt(
        "starting a pairing needs no credential: its secret is worth nothing until a "
        "signed-in user approves its code on a CSRF-protected page",
        201,
        may_change=frozenset({"sidebar.Pairing"}),
    ),
}

ARGUMENTS: dict[str, Callable[[World], object]] = {
    "int": lambda w: 1,
    "str": lambda w: "forged",
    "slug": lambda w: "intro",
    "regex": lambda w: "forged:token",
}

ROUTES = [route for route in app_routes() if route.name]


def url_of(route: Route, world: World) -> str:
    kwargs = {name: ARGUMENTS[converter](world) for name, converter in route.kwargs.items()}
    if route.name == "meetings:book":
        kwargs["username"] = world.alice.username
    return reverse(route.name, kwargs=kwargs)


def attacker_posting_as(world: World) -> Client:
    """Alice, signed in, with the CSRF cookie her browser holds; the forged form
    cannot know the token."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)
    client.get("/login/")
    assert client.cookies.get("csrftoken")
    return client


def test_the_exempt_views_are_exactly_the_listed_ones() -> None:
    exempt = {route.name for route in ROUTES if route.csrf_exempt}
    assert exempt == EXEMPT.keys(), (
        "a view's CSRF exemption changed: list it in EXEMPT with the reason, or remove it"
    )
    assert all(route.name for route in app_routes()), "every page URL has a name"


@pytest.mark.parametrize("route", ROUTES, ids=[route.name for route in ROUTES])
def test_a_post_without_the_csrf_token_is_refused(world: World, route: Route) -> None:
    client = attacker_posting_as(world)
    url = url_of(route, world)
    before = snapshot()
    response = client.post(url, {"name": "x", "email": "x@acme.test", "direction": "up"})
    exempt = EXEMPT.get(route.name)
    if exempt is None:
        assert response.status_code == 403, (url, response.status_code)
        assert b"CSRF" in response.content
        assert changes(before) == []
    else:
        assert response.status_code == exempt.status, (url, response.status_code)
        assert set(changes(before)) <= exempt.may_change, url


def test_starting_a_pairing_creates_nothing_but_the_pairing(world: World) -> None:
    response = Client().post("/sidebar/pairing/", "{}", content_type="application/json")
    assert response.status_code == 201
    pairing = Pairing.objects.get()
    assert pairing.approved_by is None and pairing.token is None


def test_a_signed_in_session_is_no_credential_for_the_api(world: World) -> None:
    """The API is CSRF-exempt because it reads only its Bearer token: a browser's
    session cookie, which another site could make it send, gets 401 on every call
    that changes something."""
    client = attacker_posting_as(world)
    documents = {"api-v1:openapi-json", "api-v1:api-root"}  # GET only, CSRF-protected
    api_routes = [
        route
        for route in all_routes()
        if route.route.startswith("api/v1/") and route.name not in documents
    ]
    assert api_routes and all(route.csrf_exempt for route in api_routes)
    schema = api.get_openapi_schema()
    before = snapshot()
    for path, methods in schema["paths"].items():
        for method in methods:
            if method == "get":
                continue
            concrete = re.sub(r"\{[^}]+\}", "1", path)
            response = getattr(client, method)(concrete, {}, content_type="application/json")
            assert response.status_code == 401, (method, path, response.status_code)
    assert changes(before) == []
