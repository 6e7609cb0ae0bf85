"""Public endpoints of tracked links and the open image: no sign-in, GET and HEAD only."""

import base64

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from cadency.tracking.bots import Hit
from cadency.tracking.services import InvalidLink, follow_click, record_open

# The smallest transparent GIF: 1x1, one transparent color.
TRANSPARENT_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
PURPOSE_HEADERS = ("Sec-Purpose", "Purpose", "X-Purpose", "X-Moz")


def hit_of(request: HttpRequest) -> Hit:
    purpose = " ".join(request.headers.get(name, "") for name in PURPOSE_HEADERS)
    return Hit(
        method=request.method or "GET",
        user_agent=request.headers.get("User-Agent", ""),
        purpose=purpose.strip(),
        at=timezone.now(),
    )


def not_cached(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store, max-age=0"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@login_not_required
@csrf_exempt
@require_http_methods(["GET", "HEAD"])
def click_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        click = follow_click(token, hit_of(request))
    except InvalidLink as exc:
        page = render(request, "tracking/invalid_link.html", {"error": exc}, status=400)
        return not_cached(page)
    return not_cached(HttpResponseRedirect(click.url))


@login_not_required
@csrf_exempt
@require_http_methods(["GET", "HEAD"])
def open_view(request: HttpRequest, token: str) -> HttpResponse:
    record_open(token, hit_of(request))
    return not_cached(HttpResponse(TRANSPARENT_GIF, content_type="image/gif"))
