from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache

from cadency.web.readiness import readiness


def home(request: HttpRequest) -> HttpResponse:
    return redirect("/sequences/")


@login_not_required
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process serves requests. It does not touch the database, so that an
    outage there does not get every web server restarted; /readyz checks it."""
    return JsonResponse({"status": "ok"})


@login_not_required
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when this process may take traffic; else 503 naming each check that failed."""
    result = readiness()
    if result.ready:
        return JsonResponse({"status": "ready", "checks": dict.fromkeys(result.passed, "ok")})
    return JsonResponse(
        {
            "status": "not ready",
            "checks": {**dict.fromkeys(result.passed, "ok"), **result.failed},
            "failed": list(result.failed),
        },
        status=503,
    )
