"""The Sequences dashboard: the Manage tab (every sequence, with its counts) and the
Scheduled tab (every upcoming step across sequences)."""

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from cadency.accounts.models import User
from cadency.accounts.permissions import check_may_manage_sequence, may_act_on, may_manage_sequence
from cadency.sequences.models import Sequence, StepRun
from cadency.sequences.reports import SummaryRates, summary_rates, with_summary
from cadency.sequences.selectors import run_summary, scheduled_rows, scheduled_runs
from cadency.sequences.services.authoring import SequenceSpecError, create_sequence
from cadency.sequences.services.lifecycle import delete_sequence
from cadency.sequences.services.scheduling import resolve_zone
from cadency.sequences.views.display import kind_label, viewer_zone
from cadency.web.pagination import page_and_rows, page_of
from cadency.web.requests import signed_in_user

# A new sequence starts with one harmless step (a task, so nothing is emailed)
# that the Steps tab replaces.
FIRST_STEP = {"type": "task", "title": "Write the first email of this sequence"}


@dataclass(frozen=True)
class SequenceRow:
    sequence: Sequence
    rates: SummaryRates
    may_manage: bool


class NewSequenceForm(forms.Form):
    name = forms.CharField(max_length=200, strip=True)


def manage(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    show_deleted = request.GET.get("deleted") == "1"
    sequences = Sequence.objects.filter(archived_at__isnull=not show_deleted)
    page = page_of(request, with_summary(sequences).select_related("owner").order_by("name", "pk"))
    rows = [SequenceRow(s, summary_rates(s), may_manage_sequence(user, s)) for s in page]
    return render(
        request,
        "sequences/dashboard.html",
        {
            "page": page,
            "rows": rows,
            "show_deleted": show_deleted,
            "form": NewSequenceForm(),
            "dashboard_tab": "manage",
        },
    )


@require_POST
def create(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    form = NewSequenceForm(request.POST)
    if form.is_valid():
        try:
            sequence = create_sequence(
                owner=user, spec={"name": form.cleaned_data["name"], "steps": [FIRST_STEP]}
            )
        except SequenceSpecError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"Created «{sequence.name}». Write its steps here.")
            return redirect(f"/sequences/{sequence.pk}/")
    messages.error(
        request, "The sequence was not created: " + " ".join(map(str, form.errors.get("name", [])))
    )
    return redirect("/sequences/")


@require_POST
def delete(request: HttpRequest, sequence_id: int) -> HttpResponse:
    user = signed_in_user(request)
    sequence = get_object_or_404(Sequence, pk=sequence_id)
    check_may_manage_sequence(user, sequence)
    if sequence.archived_at is not None:
        messages.warning(request, f"«{sequence.name}» was already deleted; nothing changed.")
        return redirect("/sequences/")
    ended = delete_sequence(sequence=sequence, actor=user)
    messages.success(
        request,
        f"Deleted «{sequence.name}»; {ended} open enrollment{'s' if ended != 1 else ''} "
        "ended (sequence deleted). Its history and reports are kept.",
    )
    return redirect("/sequences/")


class ScheduledFilterForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        empty_label="Everyone",
        label="Enrolled by",
    )
    sequence = forms.ModelChoiceField(
        queryset=Sequence.objects.filter(archived_at__isnull=True).order_by("name"),
        required=False,
        empty_label="Every sequence",
    )


@dataclass(frozen=True)
class ScheduledRow:
    run: StepRun
    kind: str
    summary: str  # the subject or task title, personalised
    contact_zone: str  # the zone the step is scheduled in (the contact's, else the mailbox's)
    may_act: bool


def scheduled(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    form = ScheduledFilterForm(request.GET)
    chosen_user = chosen_sequence = None
    if form.is_valid():
        chosen_user = form.cleaned_data["user"]
        chosen_sequence = form.cleaned_data["sequence"]
    page, runs = page_and_rows(
        request,
        scheduled_runs(
            user_id=chosen_user.pk if chosen_user else None,
            sequence_id=chosen_sequence.pk if chosen_sequence else None,
        ),
        scheduled_rows,
    )
    rows = [
        ScheduledRow(
            run,
            kind_label(run.step.kind),
            run_summary(run),
            str(resolve_zone(run.enrollment.contact.time_zone, run.enrollment.mailbox.time_zone)),
            may_act_on(user, run.enrollment.enrolled_by_id),
        )
        for run in runs
    ]
    return render(
        request,
        "sequences/scheduled.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "zone": viewer_zone(user),
            "now": timezone.now(),
            "dashboard_tab": "scheduled",
        },
    )
