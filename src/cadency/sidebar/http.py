"""The sidebar's HTTP rules: who may frame it, which origins get CORS, who is asking.

Only the sidebar views use these; every other page keeps ``X-Frame-Options: DENY``
and answers no cross-origin request.
"""

import functools
import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.clickjacking import xframe_options_exempt

from cadency.accounts.models import User
from cadency.accounts.tokens import authenticate_token

View = Callable[..., HttpResponse]

# What "*" may stand for in an origin pattern: one host name (with its dots) or an
# extension id, never a scheme, a port separator or a path.
WILDCARD = "[A-Za-z0-9.-]+"
CORS_MAX_AGE_SECONDS = 600


def origin_pattern(pattern: str) -> re.Pattern[str]:
    """``chrome-extension://*`` or ``https://*.example.com`` as an exact-match regex."""
    parts = (re.escape(part) for part in pattern.strip().rstrip("/").split("*"))
    return re.compile(WILDCARD.join(parts), re.IGNORECASE)


def origin_allowed(origin: str) -> bool:
    if not origin or origin == "null":
        return False
    return any(
        origin_pattern(pattern).fullmatch(origin) for pattern in settings.CADENCY_SIDEBAR_ORIGINS
    )


def frame_ancestors() -> str:
    # A source with a space, a comma or a semicolon would change the policy: skip it.
    sources = [
        source
        for source in settings.CADENCY_SIDEBAR_FRAME_ANCESTORS
        if source and not re.search(r"[\s,;]", source)
    ]
    return "frame-ancestors " + (" ".join(sources) or "'none'")


def frameable(view: View) -> View:
    """The mail clients may frame this view: CSP frame-ancestors instead of
    X-Frame-Options (which cannot name several origins)."""

    @functools.wraps(view)
    @xframe_options_exempt
    def framed(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = frame_ancestors()
        return response

    return framed


def with_cors(view: View) -> View:
    """Answer CORS preflights, and mark responses readable, for the sidebar origins only.
    Never with credentials: these views read a Bearer token, not cookies."""

    @functools.wraps(view)
    def cors(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        origin = request.headers.get("Origin", "")
        preflight = (
            request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
        )
        response = HttpResponse(status=204) if preflight else view(request, *args, **kwargs)
        patch_vary_headers(response, ["Origin"])
        if not origin_allowed(origin):
            return response
        response["Access-Control-Allow-Origin"] = origin
        if preflight:
            response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
            response["Access-Control-Max-Age"] = str(CORS_MAX_AGE_SECONDS)
        return response

    return cors


def bearer_token(request: HttpRequest) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def token_user(request: HttpRequest) -> User | None:
    """The user of the request's API token; cookies and sessions are never looked at."""
    token = bearer_token(request)
    return authenticate_token(token) if token else None
