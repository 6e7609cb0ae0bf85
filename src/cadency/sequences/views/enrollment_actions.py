"""Unenroll, pause and resume one enrollment: the buttons on every page that lists one."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from cadency.accounts.models import User
from cadency.accounts.permissions import check_may_act_on
from cadency.sequences.models import Enrollment, UnenrollReason
from cadency.sequences.services.enrollment import contact_label, pause, resume, unenroll
from cadency.web.redirects import redirect_back
from cadency.web.requests import signed_in_user


def act(
    request: HttpRequest,
    enrollment_id: int,
    action: Callable[[Enrollment, User], bool],
    done: str,
    not_done: str,
) -> HttpResponse:
    enrollment = get_object_or_404(
        Enrollment.objects.select_related("contact", "sequence"), pk=enrollment_id
    )
    actor = signed_in_user(request)
    check_may_act_on(actor, enrollment)
    who = contact_label(enrollment.contact)
    name = enrollment.sequence.name
    if action(enrollment, actor):
        messages.success(request, done.format(who=who, sequence=name))
    else:
        state = enrollment.get_status_display().lower()
        messages.warning(request, not_done.format(who=who, sequence=name, state=state))
    return redirect_back(request, f"/contacts/{enrollment.contact_id}/")


@require_POST
def unenroll_one(request: HttpRequest, enrollment_id: int) -> HttpResponse:
    return act(
        request,
        enrollment_id,
        lambda e, actor: unenroll(enrollment=e, reason=UnenrollReason.MANUAL, actor=actor),
        "Unenrolled {who} from «{sequence}».",
        "{who} was already {state} in «{sequence}»; nothing changed.",
    )


@require_POST
def pause_one(request: HttpRequest, enrollment_id: int) -> HttpResponse:
    return act(
        request,
        enrollment_id,
        lambda e, actor: pause(enrollment=e, actor=actor),
        "Paused {who} in «{sequence}».",
        "{who} is {state} in «{sequence}», not active; nothing changed.",
    )


@require_POST
def resume_one(request: HttpRequest, enrollment_id: int) -> HttpResponse:
    return act(
        request,
        enrollment_id,
        lambda e, actor: resume(enrollment=e, actor=actor),
        "Resumed {who} in «{sequence}».",
        "{who} is {state} in «{sequence}», not paused; nothing changed.",
    )
