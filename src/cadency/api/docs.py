"""The interactive API docs (Swagger UI) at /api/docs, with no CDN: the assets
django-ninja ships are served from its package by this app."""

from pathlib import Path

import ninja
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

ASSETS_DIR = Path(ninja.__file__).resolve().parent / "static" / "ninja"
ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-init.js": "text/javascript",
    "favicon.svg": "image/svg+xml",
    "favicon.png": "image/png",
}


@login_not_required
@require_GET
def docs(request: HttpRequest) -> HttpResponse:
    settings = {
        "url": reverse("api-v1:openapi-json"),
        "layout": "BaseLayout",
        "deepLinking": True,
        "persistAuthorization": True,
    }
    return render(request, "api/docs.html", {"swagger_settings": settings, "title": "Cadency API"})


@login_not_required
@require_GET
def asset(request: HttpRequest, name: str) -> FileResponse:
    if name not in ASSETS:
        raise Http404("no such asset")
    response = FileResponse((ASSETS_DIR / name).open("rb"), content_type=ASSETS[name])
    response["Cache-Control"] = "public, max-age=86400"
    return response
