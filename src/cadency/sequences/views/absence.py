"""The Absence page: "away until", "I'm back", and managers setting it for a rep.

Anyone may look at anyone's absence; only the user, a manager or an admin may
change it (SPEC §1), and the server refuses the others with 403.
"""

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from cadency.accounts.models import User
from cadency.accounts.permissions import may_act_on
from cadency.sequences.models import Absence
from cadency.sequences.services.absence import (
    MAX_ABSENCE_DAYS,
    AbsenceRefused,
    check_may_set_absence,
    current_absence,
    preview_absence,
    start_absence,
    user_zone,
)
from cadency.sequences.services.absence_return import end_absence
from cadency.web.requests import signed_in_user

HISTORY = 10


class AwayForm(forms.Form):
    until = forms.DateField(
        label="Away until",
        help_text="The day you are back: everything resumes that morning.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(
        label="Note", required=False, max_length=500, help_text="Optional, e.g. “Holiday”."
    )


def user_from(value: str | None, viewer: User) -> User:
    """The user a request is about: ``user`` (an id), else the viewer."""
    value = (value or "").strip()
    if value in {"", str(viewer.pk)}:
        return viewer
    if not value.isdigit():
        raise BadRequest("user must be a user id")
    return get_object_or_404(User, pk=int(value))


def long_date(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def page_url(user: User, viewer: User) -> str:
    base = reverse("sequences:absence")
    return base if user == viewer else f"{base}?user={user.pk}"


def absence_page(
    request: HttpRequest, subject: User, *, form: AwayForm | None = None, status: int = 200
) -> HttpResponse:
    viewer = signed_in_user(request)
    absence = current_absence(subject)
    today = timezone.now().astimezone(user_zone(subject)).date()
    context = {
        "viewer": viewer,
        "subject": subject,
        "absence": absence,
        "held": absence.pauses.count() if absence else 0,
        "moved": absence.tasks.count() if absence else 0,
        "may_change": may_act_on(viewer, subject.pk),
        "users": (
            User.objects.filter(is_active=True).order_by("username")[:500]
            if viewer.can_act_on_all_enrollments()
            else []
        ),
        "form": form or AwayForm(),
        "earliest": today + dt.timedelta(days=1),
        "latest": today + dt.timedelta(days=MAX_ABSENCE_DAYS),
        "preview": preview_absence(user=subject, until=today + dt.timedelta(days=1)),
        "history": Absence.objects.filter(user=subject)
        .exclude(ended_at=None)
        .select_related("created_by", "ended_by")
        .order_by("-starts_at")[:HISTORY],
        "catch_up": settings.CADENCY_ABSENCE_CATCHUP_PER_DAY,
        "tasks_per_day": settings.CADENCY_ABSENCE_TASKS_PER_DAY,
    }
    return render(request, "sequences/absence.html", context, status=status)


@require_GET
def absence(request: HttpRequest) -> HttpResponse:
    viewer = signed_in_user(request)
    return absence_page(request, user_from(request.GET.get("user"), viewer))


@require_GET
def preview(request: HttpRequest) -> HttpResponse:
    """What "away until" that date would hold (htmx fills the form's live region)."""
    viewer = signed_in_user(request)
    subject = user_from(request.GET.get("user"), viewer)
    form = AwayForm(request.GET)
    until = form.cleaned_data["until"] if form.is_valid() else None
    counts = preview_absence(user=subject, until=until) if until else None
    return render(
        request,
        "sequences/absence_preview.html",
        {"subject": subject, "viewer": viewer, "until": until, "preview": counts},
    )


@require_POST
def start(request: HttpRequest) -> HttpResponse:
    actor = signed_in_user(request)
    subject = user_from(request.POST.get("user"), actor)
    check_may_set_absence(actor, subject)
    form = AwayForm(request.POST)
    if not form.is_valid():
        return absence_page(request, subject, form=form, status=400)
    try:
        away = start_absence(
            user=subject,
            until=form.cleaned_data["until"],
            actor=actor,
            note=form.cleaned_data["note"],
        )
    except AbsenceRefused as exc:
        form.add_error("until", exc.message)
        return absence_page(request, subject, form=form, status=400)
    who = "You are" if subject == actor else f"{subject.display_name} is"
    messages.success(
        request,
        f"{who} away until {long_date(away.until)}: {away.pauses.count()} enrollment(s) "
        f"paused and {away.tasks.count()} task(s) moved to after the return.",
    )
    return redirect(page_url(subject, actor))


@require_POST
def end(request: HttpRequest) -> HttpResponse:
    actor = signed_in_user(request)
    subject = user_from(request.POST.get("user"), actor)
    check_may_set_absence(actor, subject)
    away = current_absence(subject)
    if away is None:
        messages.warning(request, f"{subject.display_name} is not away; nothing was changed.")
        return redirect(page_url(subject, actor))
    report = end_absence(absence=away, actor=actor)
    who = "Welcome back" if subject == actor else f"{subject.display_name} is back"
    messages.success(
        request,
        f"{who}: {report.resumed} enrollment(s) resumed, {report.steps_rescheduled} overdue "
        f"step(s) spread over the following days, {report.tasks_rescheduled} task(s) "
        "rescheduled.",
    )
    return redirect(page_url(subject, actor))
