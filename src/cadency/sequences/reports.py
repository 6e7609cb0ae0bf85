"""Sequence reports (SPEC §5): computed from history, so unenrolling never changes them.

Step runs, ended enrollments and ledger events are never deleted or rewritten;
a manual unenrollment only cancels runs that had not run, which no count reads,
and adds one to ``unenrolled_by_reason["manual"]``.

A step counts as executed ("sent") once its email left or was refused at SMTP
time (bounced), or its task was created. Replies, meetings, bounces and
unsubscribes are attributed to the last step executed for the enrollment before
it ended; an enrollment that ended before any step ran has no step to count in.
"""

from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from cadency.ledger.models import Event
from cadency.sequences.models import (
    Enrollment,
    EnrollmentStatus,
    Sequence,
    Step,
    StepKind,
    StepRun,
    StepRunState,
    UnenrollReason,
)

REPLY_REASONS = (
    UnenrollReason.REPLIED,
    UnenrollReason.EMAILED,
    UnenrollReason.REPLIED_OTHER_ADDRESS,
    UnenrollReason.EMAILED_FROM_ALIAS,
    UnenrollReason.COMPANY_REPLIED,
)
DELIVERED_STATES = (StepRunState.ACCEPTED, StepRunState.SENT, StepRunState.DONE)
# A task step with "pause until complete" stays task_open once its task exists
# (unenrolling does not change that state), so it counts like a done task.
EXECUTED_STATES = (*DELIVERED_STATES, StepRunState.BOUNCED, StepRunState.TASK_OPEN)


def rate(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def with_summary(sequences: QuerySet[Sequence]) -> QuerySet[Sequence]:
    """The Manage tab's counts in one query: steps, status counts and outcome counts."""

    def count(**where: object) -> Count:
        return Count("enrollments", filter=Q(**{f"enrollments__{k}": v for k, v in where.items()}))

    current_steps = (
        Step.objects.filter(sequence=OuterRef("pk"), version=OuterRef("current_version"))
        .order_by()
        .values("sequence")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return sequences.annotate(
        step_count=Coalesce(Subquery(current_steps, output_field=IntegerField()), 0),
        enrolled_count=Count("enrollments"),
        active_count=count(status=EnrollmentStatus.ACTIVE),
        paused_count=count(status=EnrollmentStatus.PAUSED),
        finished_count=count(status=EnrollmentStatus.FINISHED),
        unenrolled_count=count(status=EnrollmentStatus.UNENROLLED),
        replied_count=count(reason__in=REPLY_REASONS),
        meeting_count=count(reason=UnenrollReason.MEETING_BOOKED),
        bounced_count=count(reason=UnenrollReason.BOUNCED),
    )


@dataclass(frozen=True)
class SummaryRates:
    reply: float
    meeting: float
    bounce: float


def summary_rates(sequence: Sequence) -> SummaryRates:
    """Rates of a sequence annotated by ``with_summary``, per enrollment."""
    enrolled: int = getattr(sequence, "enrolled_count", 0)
    return SummaryRates(
        reply=rate(getattr(sequence, "replied_count", 0), enrolled),
        meeting=rate(getattr(sequence, "meeting_count", 0), enrolled),
        bounce=rate(getattr(sequence, "bounced_count", 0), enrolled),
    )


@dataclass
class StepFunnel:
    position: int
    kind: str
    subject: str
    sent: int = 0
    opened: int = 0
    clicked: int = 0
    replied: int = 0
    meetings: int = 0
    bounced: int = 0
    unsubscribed: int = 0

    def rate(self, name: str) -> float:
        return rate(getattr(self, name), self.sent)

    @property
    def is_email(self) -> bool:
        return self.kind == StepKind.AUTOMATED_EMAIL


@dataclass
class Performance:
    enrolled: int
    steps: list[StepFunnel]
    unenrolled_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def sent(self) -> int:
        return sum(step.sent for step in self.steps)

    @property
    def emails_sent(self) -> int:
        return sum(step.sent for step in self.steps if step.is_email)

    @property
    def unenrolled(self) -> int:
        return sum(self.unenrolled_by_reason.values())

    @property
    def replied(self) -> int:
        """Every enrollment a person's answer ended, even before any step ran."""
        return sum(self.unenrolled_by_reason.get(reason, 0) for reason in REPLY_REASONS)

    @property
    def meetings(self) -> int:
        return self.unenrolled_by_reason.get(UnenrollReason.MEETING_BOOKED, 0)


OUTCOME_BY_REASON = {
    **{reason.value: "replied" for reason in REPLY_REASONS},
    UnenrollReason.MEETING_BOOKED.value: "meetings",
    UnenrollReason.BOUNCED.value: "bounced",
    UnenrollReason.UNSUBSCRIBED.value: "unsubscribed",
}


def performance(sequence: Sequence) -> Performance:
    # The current version names the steps; a position only older versions had
    # (enrollments keep their version) is named by the newest version that had it.
    names: dict[int, Step] = {}
    for step in sequence.steps.filter(version__lte=sequence.current_version).order_by(
        "-version", "position"
    ):
        names.setdefault(step.position, step)
    steps = {
        position: StepFunnel(position, step.kind, step.subject)
        for position, step in names.items()
        if step.version == sequence.current_version
    }

    def funnel(position: int) -> StepFunnel:
        if position not in steps:
            named = names.get(position)
            kind, subject = (named.kind, named.subject) if named else ("", "")
            steps[position] = StepFunnel(position, kind, subject)
        return steps[position]

    runs = StepRun.objects.filter(enrollment__sequence=sequence)
    for position, n in (
        runs.filter(state__in=EXECUTED_STATES)
        .values_list("position")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        funnel(position).sent += n

    last_sent = Subquery(
        StepRun.objects.filter(enrollment=OuterRef("pk"), state__in=EXECUTED_STATES)
        .order_by("-position")
        .values("position")[:1],
        output_field=IntegerField(),
    )
    outcomes = (
        Enrollment.objects.filter(sequence=sequence, reason__in=list(OUTCOME_BY_REASON))
        .annotate(last_sent=last_sent)
        .values_list("reason", "last_sent")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for reason, position, n in outcomes:
        if position is None:
            continue
        outcome = OUTCOME_BY_REASON[reason]
        setattr(funnel(position), outcome, getattr(funnel(position), outcome) + n)

    for kind, attr in (("opened", "opened"), ("clicked", "clicked")):
        for position, n in (
            Event.objects.filter(sequence=sequence, kind=kind)
            .values_list("data__position")
            .annotate(n=Count("enrollment_id", distinct=True))
            .order_by()
        ):
            if isinstance(position, int):
                setattr(funnel(position), attr, n)

    by_reason = dict(
        Enrollment.objects.filter(sequence=sequence, status=EnrollmentStatus.UNENROLLED)
        .values_list("reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return Performance(
        enrolled=sequence.enrollments.count(),
        steps=[steps[p] for p in sorted(steps)],
        unenrolled_by_reason=by_reason,
    )
