from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from cadency.contacts.models import Suppression
from cadency.outbound.unsubscribe import enrollment_for_token, unsubscribe
from cadency.outbound.unsubscribe_tokens import InvalidToken


# The token is the capability: mail providers' one-click POSTs carry no CSRF token.
@login_not_required
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        claim, enrollment = enrollment_for_token(token)
    except InvalidToken as exc:
        return render(request, "outbound/unsubscribe_invalid.html", {"error": exc}, status=400)
    if request.method == "GET":
        done = Suppression.objects.filter(email=claim.email).exists()
        return render(
            request,
            "outbound/unsubscribe_confirm.html",
            {"email": claim.email, "sender": enrollment.mailbox.email, "done": done},
        )
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    unsubscribe(token, one_click=one_click)
    return render(request, "outbound/unsubscribe_done.html", {"email": claim.email})
