"""Read-side queries shared by pages, the API and the CLI."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from cadency.accounts.models import User
from cadency.accounts.permissions import actionable
from cadency.contacts.models import Contact
from cadency.mailboxes.models import Mailbox
from cadency.sequences.models import (
    DelayUnit,
    Enrollment,
    Sequence,
    Step,
    StepKind,
    StepRun,
    StepRunState,
)
from cadency.sequences.models.enrollment import OPEN_STATUSES
from cadency.sequences.services import scheduling
from cadency.sequences.services.templates import MissingToken, TemplateError, render


@dataclass(frozen=True)
class EnrollmentFilter:
    """A selection of enrollments as a user describes it ("all N matching")."""

    sequence_id: int | None = None
    statuses: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    enrolled_by_id: int | None = None
    contact_id: int | None = None
    search: str = ""
    ids: tuple[int, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return not (
            self.sequence_id or self.statuses or self.reasons or self.enrolled_by_id
        ) and not (self.contact_id or self.search or self.ids)


def filter_enrollments(selection: EnrollmentFilter) -> QuerySet[Enrollment]:
    enrollments = Enrollment.objects.all()
    if selection.ids:
        enrollments = enrollments.filter(pk__in=selection.ids)
    if selection.sequence_id is not None:
        enrollments = enrollments.filter(sequence_id=selection.sequence_id)
    if selection.statuses:
        enrollments = enrollments.filter(status__in=selection.statuses)
    if selection.reasons:
        enrollments = enrollments.filter(reason__in=selection.reasons)
    if selection.enrolled_by_id is not None:
        enrollments = enrollments.filter(enrolled_by_id=selection.enrolled_by_id)
    if selection.contact_id is not None:
        enrollments = enrollments.filter(contact_id=selection.contact_id)
    if selection.search:
        text = selection.search.strip()
        enrollments = enrollments.filter(
            Q(email__icontains=text)
            | Q(contact__first_name__icontains=text)
            | Q(contact__last_name__icontains=text)
        )
    return enrollments


def enrollment_rows(enrollments: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    """What a table of enrollments shows, fetched in one query."""
    return enrollments.select_related("contact", "sequence", "enrolled_by", "mailbox").order_by(
        "-started_at", "-pk"
    )


def actionable_open(enrollments: QuerySet[Enrollment], actor: User) -> QuerySet[Enrollment]:
    """The open enrollments of a selection that the actor may end (what a bulk unenroll ends)."""
    return actionable(enrollments, actor).filter(status__in=OPEN_STATUSES)


@dataclass(frozen=True)
class UnenrollPlan:
    """A bulk unenroll before it runs: what it will end and what it will leave, and why."""

    to_end: list[int]  # open, and the actor may act on them
    already_ended: int  # finished or unenrolled
    others: int  # open, but made by another user and the actor is a rep

    @property
    def selected(self) -> int:
        return len(self.to_end) + self.already_ended + self.others


def plan_unenroll(enrollments: QuerySet[Enrollment], actor: User) -> UnenrollPlan:
    counts = enrollments.aggregate(
        total=Count("pk"), open=Count("pk", filter=Q(status__in=OPEN_STATUSES))
    )
    to_end = list(actionable_open(enrollments, actor).order_by("pk").values_list("pk", flat=True))
    return UnenrollPlan(
        to_end=to_end,
        already_ended=counts["total"] - counts["open"],
        others=counts["open"] - len(to_end),
    )


def open_enrollment_of(contact: Contact) -> Enrollment | None:
    return (
        contact.enrollments.filter(status__in=OPEN_STATUSES)
        .select_related("sequence", "enrolled_by", "mailbox")
        .first()
    )


def scheduled_runs(
    *, user_id: int | None = None, sequence_id: int | None = None
) -> QuerySet[StepRun]:
    """Every upcoming step of open enrollments, soonest first (the Scheduled view)."""
    runs = StepRun.objects.filter(
        state=StepRunState.SCHEDULED, enrollment__status__in=OPEN_STATUSES
    )
    if user_id is not None:
        runs = runs.filter(enrollment__enrolled_by_id=user_id)
    if sequence_id is not None:
        runs = runs.filter(enrollment__sequence_id=sequence_id)
    return scheduled_rows(runs)


def scheduled_rows(runs: QuerySet[StepRun]) -> QuerySet[StepRun]:
    """What a table of scheduled steps shows, fetched in one query, soonest first."""
    return runs.select_related(
        "step",
        "enrollment__contact__company",
        "enrollment__sequence",
        "enrollment__enrolled_by",
        "enrollment__mailbox",
    ).order_by("due_at", "pk")


@dataclass(frozen=True)
class ForecastStep:
    position: int
    kind: str
    subject: str
    due_at: dt.datetime
    time_zone: str


def forecast(
    *,
    contact: Contact,
    sequence: Sequence,
    mailbox: Mailbox,
    start_step: int = 1,
    start_at: dt.datetime | None = None,
) -> list[ForecastStep]:
    """When each step would run if the contact were enrolled now and nobody answered.

    Task steps are assumed completed the moment they are due.
    """
    steps: list[Step] = list(sequence.current_steps().filter(position__gte=start_step))
    zone = scheduling.resolve_zone(contact.time_zone, mailbox.time_zone)
    policy = scheduling.policy_from_snapshot(scheduling.sequence_settings_snapshot(sequence), zone)
    now = timezone.now()
    when = start_at if start_at is not None and start_at > now else now
    result: list[ForecastStep] = []
    for index, step in enumerate(steps):
        if index == 0:
            is_email = step.kind == StepKind.AUTOMATED_EMAIL
            due = scheduling.next_send_time(when, policy) if is_email else when
        else:
            due = scheduling.follow_up_due(when, step.delay, DelayUnit(step.delay_unit), policy)
        result.append(ForecastStep(step.position, step.kind, step.subject, due, str(policy.tz)))
        when = due
    return result


def run_summary(run: StepRun) -> str:
    """What a run sends or asks: its subject or task title, personalised for the contact."""
    if run.subject:
        return run.subject
    step, enrollment = run.step, run.enrollment
    text = step.subject if step.kind == StepKind.AUTOMATED_EMAIL else step.task_title
    if not text:
        return "(a follow-up in the same thread)" if step.kind == StepKind.AUTOMATED_EMAIL else ""
    try:
        return render(text, contact=enrollment.contact, sender=enrollment.enrolled_by)
    except (MissingToken, TemplateError):
        return text
