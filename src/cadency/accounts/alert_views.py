"""The Alerts page: a user's open alerts, with Dismiss, and the earlier ones."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from cadency.accounts.alerts import dismiss_alert, earlier_alerts, open_alerts
from cadency.accounts.models import Alert
from cadency.web.redirects import redirect_back
from cadency.web.requests import signed_in_user


@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    return render(
        request,
        "accounts/alerts.html",
        {
            "open_alerts": list(open_alerts(user).order_by("-updated_at", "-pk")),
            "earlier_alerts": list(earlier_alerts(user)),
        },
    )


@require_POST
def dismiss(request: HttpRequest, alert_id: int) -> HttpResponse:
    user = signed_in_user(request)
    alert = Alert.objects.filter(pk=alert_id, user=user).first()
    if alert is None:
        raise Http404("You have no alert with this id.")
    if dismiss_alert(alert=alert, actor=user):
        messages.success(request, f"Dismissed “{alert.title}”.")
    else:
        messages.info(request, f"“{alert.title}” was already closed; nothing changed.")
    return redirect_back(request, "/alerts/")
