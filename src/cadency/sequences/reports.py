"""Sequence reports (SPEC §5): computed from history, so unenrolling never changes them.

Replies, meetings, bounces and unsubscribes are attributed to the last step
that was sent to the enrollment before it ended.
"""

from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery

from cadency.ledger.models import Event
from cadency.sequences.models import (
    Enrollment,
    EnrollmentStatus,
    Sequence,
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
EXECUTED_STATES = (*DELIVERED_STATES, StepRunState.BOUNCED)


def rate(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def with_summary(sequences: QuerySet[Sequence]) -> QuerySet[Sequence]:
    """The Manage tab's counts in one query: status counts and outcome counts."""

    def count(**where: object) -> Count:
        return Count("enrollments", filter=Q(**{f"enrollments__{k}": v for k, v in where.items()}))

    return sequences.annotate(
        enrolled_count=Count("enrollments"),
        active_count=count(status=EnrollmentStatus.ACTIVE),
        paused_count=count(status=EnrollmentStatus.PAUSED),
        finished_count=count(status=EnrollmentStatus.FINISHED),
        unenrolled_count=count(status=EnrollmentStatus.UNENROLLED),
        replied_count=count(reason__in=REPLY_REASONS),
        meeting_count=count(reason=UnenrollReason.MEETING_BOOKED),
        bounced_count=count(reason=UnenrollReason.BOUNCED),
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


@dataclass
class Performance:
    enrolled: int
    steps: list[StepFunnel]
    unenrolled_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def sent(self) -> int:
        return sum(step.sent for step in self.steps)


OUTCOME_BY_REASON = {
    **{reason.value: "replied" for reason in REPLY_REASONS},
    UnenrollReason.MEETING_BOOKED.value: "meetings",
    UnenrollReason.BOUNCED.value: "bounced",
    UnenrollReason.UNSUBSCRIBED.value: "unsubscribed",
}


def performance(sequence: Sequence) -> Performance:
    steps = {
        step.position: StepFunnel(step.position, step.kind, step.subject)
        for step in sequence.current_steps()
    }

    def funnel(position: int) -> StepFunnel:
        if position not in steps:
            steps[position] = StepFunnel(position, "", "")
        return steps[position]

    runs = StepRun.objects.filter(enrollment__sequence=sequence)
    # "Sent" counts attempts that left or were refused at SMTP time (bounced).
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
