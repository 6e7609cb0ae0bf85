"""The sequence page's Performance tab: the per-step funnel and unenrollments by reason,
as tables and as server-rendered bar charts (SPEC §5)."""

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from cadency.sequences.models import Sequence, StepKind
from cadency.sequences.reports import StepFunnel, performance, rate
from cadency.sequences.views.display import REASONS, kind_label, reason_label

OUTCOMES = (
    ("opened", "Opened"),
    ("clicked", "Clicked"),
    ("replied", "Replied"),
    ("meetings", "Meetings"),
    ("bounced", "Bounced"),
    ("unsubscribed", "Unsubscribed"),
)


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    count: int
    rate: float | None  # of the step's sent; None for "sent" itself
    width: float  # 0..100, of the largest bar in the chart


@dataclass(frozen=True)
class StepChart:
    funnel: StepFunnel
    kind_label: str
    sent_label: str  # "Sent" for an email, "Done" for a task
    bars: list[Bar]


@dataclass(frozen=True)
class ReasonBar:
    code: str
    label: str
    line: str
    count: int
    share: float  # of all unenrollments
    width: float


def width(count: int, largest: int) -> float:
    return round(100 * count / largest, 1) if largest else 0.0


def step_chart(step: StepFunnel, largest: int) -> StepChart:
    is_task = bool(step.kind) and step.kind != StepKind.AUTOMATED_EMAIL
    sent_label = "Done" if is_task else "Sent"
    bars = [Bar("sent", sent_label, step.sent, None, width(step.sent, largest))]
    bars += [
        Bar(key, label, getattr(step, key), step.rate(key), width(getattr(step, key), largest))
        for key, label in OUTCOMES
    ]
    return StepChart(step, kind_label(step.kind) if step.kind else "Step", sent_label, bars)


def performance_page(request: HttpRequest, sequence_id: int) -> HttpResponse:
    sequence = get_object_or_404(Sequence, pk=sequence_id)
    report = performance(sequence)
    largest = max((step.sent for step in report.steps), default=0)
    total_unenrolled = report.unenrolled
    biggest_reason = max(report.unenrolled_by_reason.values(), default=0)
    reasons = sorted(
        (
            ReasonBar(
                code,
                reason_label(code),
                REASONS[code].line if code in REASONS else "",
                count,
                rate(count, total_unenrolled),
                width(count, biggest_reason),
            )
            for code, count in report.unenrolled_by_reason.items()
        ),
        key=lambda bar: (-bar.count, bar.label),
    )
    return render(
        request,
        "sequences/performance.html",
        {
            "sequence": sequence,
            "tab": "performance",
            "report": report,
            "charts": [step_chart(step, largest) for step in report.steps],
            "outcomes": OUTCOMES,
            "reasons": reasons,
            "reply_rate": rate(report.replied, report.enrolled),
            "meeting_rate": rate(report.meetings, report.enrolled),
        },
    )
