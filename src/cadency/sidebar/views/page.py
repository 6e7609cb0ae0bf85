"""The sidebar page, its panel fragment, and disconnecting the panel."""

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from cadency.accounts.models import ApiToken
from cadency.accounts.tokens import PREFIX_LENGTH, revoke_token
from cadency.sidebar.http import bearer_token, frameable, token_user, with_cors
from cadency.sidebar.models import Client
from cadency.sidebar.panel import panel_for, parse_addresses
from cadency.sidebar.views.fragments import connect_fragment, panel_fragment

OFFICE_JS = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js"


@login_not_required
@frameable
@require_GET
def sidebar_page(request: HttpRequest) -> HttpResponse:
    """The page the Gmail extension frames and the Outlook add-in shows as its task
    pane. It holds no data: its script fetches the panel with the API token."""
    client = request.GET.get("client", Client.GMAIL)
    if client not in Client.values:
        return HttpResponseBadRequest("client must be gmail or outlook")
    config: dict[str, Any] = {
        "client": client,
        "origins": settings.CADENCY_SIDEBAR_ORIGINS,
        "urls": {
            "panel": reverse("sidebar:panel"),
            "pairing": reverse("sidebar:pairing"),
            "claim": reverse("sidebar:claim"),
            "disconnect": reverse("sidebar:disconnect"),
        },
    }
    context = {"client": client, "config": config, "office_js": OFFICE_JS}
    return render(request, "sidebar/page.html", context)


@login_not_required
@with_cors
@frameable
@require_GET
def panel(request: HttpRequest) -> HttpResponse:
    viewer = token_user(request)
    if viewer is None:
        return connect_fragment(request)
    addresses = parse_addresses(request.GET.get("emails", ""))
    return panel_fragment(request, panel_for(addresses, viewer), viewer)


@login_not_required
@csrf_exempt
@with_cors
@frameable
@require_POST
def disconnect(request: HttpRequest) -> HttpResponse:
    """Revoke the panel's token; the page then asks its host to forget it."""
    viewer = token_user(request)
    if viewer is not None:
        token = ApiToken.objects.get(prefix=bearer_token(request)[:PREFIX_LENGTH])
        revoke_token(token=token, actor=viewer)
    return connect_fragment(
        request, "Disconnected. Connect again to see your contacts here.", status=200
    )
