"""Pairing endpoints: the panel starts and claims (JSON, public); the user approves
on a normal signed-in page (CSRF-protected, never framed)."""

import json
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from cadency.sidebar.http import with_cors
from cadency.sidebar.models import Client
from cadency.sidebar.pairing import (
    PairingError,
    PairingGone,
    approve_pairing,
    claim_pairing,
    pairing_to_approve,
    start_pairing,
)
from cadency.web.requests import signed_in_user

MAX_BODY = 4096


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object, or its form fields; {} for anything else."""
    if request.content_type == "application/json":
        if len(request.body) > MAX_BODY:
            return {}
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return {}
        return data if isinstance(data, dict) else {}
    return request.POST.dict()


def problem(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"status": code, "detail": detail}, status=status)


def error_status(error: PairingError) -> tuple[int, str]:
    return (410, "gone") if isinstance(error, PairingGone) else (404, "unknown")


@login_not_required
@csrf_exempt
@with_cors
@never_cache
@require_POST
def start(request: HttpRequest) -> JsonResponse:
    client = json_body(request).get("client") or Client.GMAIL
    if client not in Client.values:
        return problem(400, "invalid", f"client must be one of {', '.join(Client.values)}")
    started = start_pairing(client=Client(client))
    code = started.pairing.code
    approve_path = reverse("sidebar:approve", args=[code])
    body = {
        "pairing": started.secret,
        "code": code,
        "approve_url": f"{settings.CADENCY_BASE_URL}{approve_path}",
        "expires_in": started.expires_in,
    }
    return JsonResponse(body, status=201)


@login_not_required
@csrf_exempt
@with_cors
@never_cache
@require_POST
def claim(request: HttpRequest) -> JsonResponse:
    secret = json_body(request).get("pairing")
    if not isinstance(secret, str) or not secret.strip():
        return problem(400, "invalid", 'send {"pairing": "<the secret from /sidebar/pairing/>"}')
    try:
        result = claim_pairing(secret=secret.strip())
    except PairingError as exc:
        return problem(*error_status(exc), str(exc))
    if not result.approved:
        return JsonResponse({"status": "pending"}, status=202)
    return JsonResponse({"status": "approved", "token": result.token, "user": result.user_name})


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def approve(request: HttpRequest, code: str) -> HttpResponse:
    """Signed in with their session, the user checks the code and connects the panel.
    Never framed (X-Frame-Options: DENY stays): a framed Connect button could be
    clicked by a user who does not see it."""
    user = signed_in_user(request)
    try:
        if request.method == "POST":
            pairing = approve_pairing(code=code, user=user)
        else:
            pairing = pairing_to_approve(code)
    except PairingError as exc:
        status, _ = error_status(exc)
        context: dict[str, Any] = {"error": str(exc), "code": code}
        response = render(request, "sidebar/approve.html", context, status=status)
    else:
        context = {
            "pairing": pairing,
            "approved_by_me": pairing.approved_by_id == user.pk,
            "approved_by_other": pairing.approved_by_id not in {None, user.pk},
        }
        response = render(request, "sidebar/approve.html", context)
    response["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response
