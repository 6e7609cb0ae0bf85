"""The HTML fragments the sidebar page puts in its panel: connect, panel, one card."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cadency.accounts.models import User
from cadency.sidebar.panel import Card, Panel, card_for, enrollable_sequences

NOT_CONNECTED = "Connect this panel to your Cadency account to see your contacts here."


def connect_fragment(
    request: HttpRequest, reason: str = NOT_CONNECTED, *, status: int = 401
) -> HttpResponse:
    """The panel has no valid token (401): the user pairs it with their account."""
    response = render(request, "sidebar/_connect.html", {"reason": reason}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="cadency"'
    return response


def panel_fragment(request: HttpRequest, panel: Panel, viewer: User) -> HttpResponse:
    context = {"panel": panel, "viewer": viewer, "sequences": list(enrollable_sequences())}
    return render(request, "sidebar/_panel.html", context)


def card_fragment(
    request: HttpRequest,
    card: Card | str,
    viewer: User,
    *,
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """One card, re-read after an action, with what the action did (or why not)."""
    if isinstance(card, str):
        card = card_for(card, viewer)
    context = {
        "card": card,
        "viewer": viewer,
        "sequences": list(enrollable_sequences()),
        "notice": notice,
        "error": error,
    }
    return render(request, "sidebar/_card.html", context, status=status)
