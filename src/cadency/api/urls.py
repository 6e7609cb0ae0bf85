"""/api/v1/… (the API and its OpenAPI document) and /api/docs (Swagger UI).

API requests authenticate with a token, not a session, so every API view is
exempt from LoginRequiredMiddleware: without a valid token they answer a JSON 401.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.urls import URLPattern, URLResolver, path, re_path

from cadency.api import docs
from cadency.api.main import api

View = Callable[..., HttpResponseBase]


def error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def json_method_not_allowed(view: View) -> View:
    """django-ninja answers a wrong method with an empty 405; say it in JSON."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if response.status_code != 405 or response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return response
        allowed = response.get("Allow", "")
        answer = error(405, "method_not_allowed", f"{request.method} is not allowed: {allowed}")
        answer["Allow"] = allowed
        return answer

    return wrapped


def api_views(patterns: list[URLPattern | URLResolver]) -> None:
    """Exempt every API view from the sign-in redirect; JSON 405s."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            api_views(pattern.url_patterns)
        else:
            pattern.callback = login_not_required(json_method_not_allowed(pattern.callback))


@login_not_required
def unknown_endpoint(request: HttpRequest, rest: str) -> JsonResponse:
    return error(404, "not_found", f"there is no API endpoint {request.path}; see /api/docs")


api_patterns, api_app_name, api_namespace = api.urls
api_views(api_patterns)

urlpatterns = [
    path("api/v1/", (api_patterns, api_app_name, api_namespace)),
    path("api/docs", docs.docs, name="api-docs"),
    path("api/docs/assets/<str:name>", docs.asset, name="api-docs-asset"),
    re_path(r"^api/(?P<rest>.*)$", unknown_endpoint),
]
