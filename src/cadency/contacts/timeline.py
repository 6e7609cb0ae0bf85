"""A contact's timeline: emails out and in, step runs, tasks, meetings and ledger events,
newest first.

Five queries whatever the length of the history (one per source, each capped at
``limit``). A ledger event that records one of the other entries (``email_sent``
for a step run, ``task_created`` for a task, the effects of an inbound message,
``meeting_logged`` for a meeting) is attached to that entry instead of standing
alone, so nothing shows twice and every sentence is still there.
"""

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db.models import Q

from cadency.contacts.models import Contact
from cadency.inbound.models import InboundMessage
from cadency.ledger.models import Event
from cadency.meetings.models import MeetingAttendee
from cadency.sequences.models import StepKind, StepRun, StepRunState, Task
from cadency.sequences.selectors import run_summary

DEFAULT_LIMIT = 200


class EntryKind(StrEnum):
    EMAIL_OUT = "email_out"
    EMAIL_IN = "email_in"
    STEP_RUN = "step_run"
    TASK = "task"
    MEETING = "meeting"
    EVENT = "event"


@dataclass(frozen=True)
class LedgerEntry:
    kind: EntryKind = field(default=EntryKind.EVENT, init=False)
    at: dt.datetime
    event_id: int
    event_kind: str
    sentence: str
    actor: str
    enrollment_id: int | None


@dataclass(frozen=True)
class OutboundEmail:
    """An email of a sequence step: fixed before sending, whatever happened next."""

    kind: EntryKind = field(default=EntryKind.EMAIL_OUT, init=False)
    at: dt.datetime
    step_run_id: int
    enrollment_id: int
    sequence_id: int
    sequence_name: str
    step_position: int
    subject: str
    to_email: str
    state: str
    state_label: str
    message_id: str
    attempts: int
    last_error: str
    events: tuple[LedgerEntry, ...] = ()


@dataclass(frozen=True)
class StepRunEntry:
    """A step run with no email of its own yet: scheduled, cancelled, or held."""

    kind: EntryKind = field(default=EntryKind.STEP_RUN, init=False)
    at: dt.datetime
    step_run_id: int
    enrollment_id: int
    sequence_id: int
    sequence_name: str
    step_position: int
    step_kind_label: str
    subject: str
    state: str
    state_label: str
    due_at: dt.datetime
    last_error: str
    events: tuple[LedgerEntry, ...] = ()


@dataclass(frozen=True)
class TaskEntry:
    kind: EntryKind = field(default=EntryKind.TASK, init=False)
    at: dt.datetime
    task_id: int
    title: str
    task_kind_label: str
    status: str
    status_label: str
    assignee: str
    due_at: dt.datetime
    completed_at: dt.datetime | None
    sequence_name: str
    step_position: int | None
    events: tuple[LedgerEntry, ...] = ()


@dataclass(frozen=True)
class InboundEmail:
    """A message received from (or about) the contact, with what Cadency made of it."""

    kind: EntryKind = field(default=EntryKind.EMAIL_IN, init=False)
    at: dt.datetime
    inbound_message_id: int
    from_address: str
    from_name: str
    subject: str
    label: str
    confidence: float | None
    reasons: tuple[str, ...]
    flags: tuple[str, ...]
    decision: str
    decision_label: str
    decision_sentence: str
    original_label: str
    relabeled_by: str
    enrollment_id: int | None
    events: tuple[LedgerEntry, ...] = ()


@dataclass(frozen=True)
class MeetingEntry:
    """A meeting the contact attends, shown when it takes place (past or upcoming)."""

    kind: EntryKind = field(default=EntryKind.MEETING, init=False)
    at: dt.datetime
    meeting_id: int
    title: str
    ends_at: dt.datetime
    time_zone: str
    location: str
    organizer: str
    source: str
    source_label: str
    status: str
    status_label: str
    response: str
    response_label: str
    logged_at: dt.datetime
    logged_by: str
    events: tuple[LedgerEntry, ...] = ()


TimelineEntry = OutboundEmail | InboundEmail | StepRunEntry | TaskEntry | MeetingEntry | LedgerEntry


def contact_timeline(contact: Contact, *, limit: int = DEFAULT_LIMIT) -> list[TimelineEntry]:
    """The contact's history, newest first, at most ``limit`` entries."""
    events = _ledger_entries(contact, limit)
    tasks = list(
        Task.objects.filter(contact=contact)
        .select_related("assignee", "step_run__enrollment__sequence")
        .order_by("-due_at", "-pk")[:limit]
    )
    runs = list(
        StepRun.objects.filter(enrollment__contact=contact)
        .select_related(
            "enrollment__sequence",
            "enrollment__contact",
            "enrollment__enrolled_by",
            "step",
            "message",
        )
        .defer("message__raw")
        .order_by("-due_at", "-pk")[:limit]
    )
    messages = list(
        InboundMessage.objects.filter(Q(contact=contact) | Q(enrollment__contact=contact))
        .select_related("relabeled_by")
        .defer("raw")
        .order_by("-received_at", "-pk")[:limit]
    )
    attendances = list(
        MeetingAttendee.objects.filter(contact=contact)
        .select_related("meeting__organizer", "meeting__created_by")
        .order_by("-meeting__starts_at", "-meeting_id", "pk")[:limit]
    )
    folded = _Folder(events)
    entries: list[TimelineEntry] = [_task_entry(t, folded.take("task", t.pk)) for t in tasks]
    tasked_runs = {t.step_run_id for t in tasks if t.step_run_id is not None}
    for run in runs:
        attached = folded.take("step_run", run.pk)
        if run.pk in tasked_runs:
            continue
        entries.append(_run_entry(run, attached))
    entries += [_inbound_entry(m, folded.take("inbound_message", m.pk)) for m in messages]
    shown: set[int] = set()
    for attendance in attendances:  # attending with two of its addresses: still one entry
        if attendance.meeting_id not in shown:
            shown.add(attendance.meeting_id)
            entries.append(
                _meeting_entry(attendance, folded.take("meeting", attendance.meeting_id))
            )
    entries += folded.remaining()
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


class _Folder:
    """Ledger events, handed out to the entry they record; the rest stand alone."""

    KEYS = ("task", "step_run", "inbound_message", "meeting")

    def __init__(self, events: list[tuple[dict[str, Any], LedgerEntry]]) -> None:
        self._events = [entry for _, entry in events]
        self._by_reference: dict[tuple[str, int], list[LedgerEntry]] = {}
        for data, entry in events:
            for key in self.KEYS:
                if isinstance(data.get(key), int):
                    self._by_reference.setdefault((key, data[key]), []).append(entry)
        self._taken: set[int] = set()

    def take(self, key: str, pk: int) -> tuple[LedgerEntry, ...]:
        found = tuple(
            sorted(
                (e for e in self._by_reference.get((key, pk), []) if e.event_id not in self._taken),
                key=lambda e: (e.at, e.event_id),
            )
        )
        self._taken.update(entry.event_id for entry in found)
        return found

    def remaining(self) -> list[LedgerEntry]:
        return [entry for entry in self._events if entry.event_id not in self._taken]


def _ledger_entries(contact: Contact, limit: int) -> list[tuple[dict[str, Any], LedgerEntry]]:
    rows = (
        Event.objects.filter(contact=contact)
        .select_related("actor")
        .order_by("-occurred_at", "-pk")[:limit]
    )
    return [
        (
            event.data if isinstance(event.data, dict) else {},
            LedgerEntry(
                at=event.occurred_at,
                event_id=event.pk,
                event_kind=event.kind,
                sentence=event.sentence,
                actor=event.actor.display_name if event.actor else "",
                enrollment_id=event.enrollment_id,
            ),
        )
        for event in rows
    ]


def _run_entry(run: StepRun, events: tuple[LedgerEntry, ...]) -> OutboundEmail | StepRunEntry:
    enrollment = run.enrollment
    message = getattr(run, "message", None)
    if message is not None:
        return OutboundEmail(
            at=message.accepted_at or run.executed_at or message.created_at,
            step_run_id=run.pk,
            enrollment_id=enrollment.pk,
            sequence_id=enrollment.sequence_id,
            sequence_name=enrollment.sequence.name,
            step_position=run.position,
            subject=message.subject,
            to_email=message.to_email,
            state=run.state,
            state_label=run.get_state_display(),
            message_id=message.message_id,
            attempts=run.attempts,
            last_error=run.last_error,
            events=events,
        )
    at = run.executed_at or run.due_at
    if run.state == StepRunState.CANCELLED and enrollment.ended_at is not None:
        # Cancelled when the enrollment ended: show it there, not at a due time never reached.
        at = min(at, enrollment.ended_at)
    return StepRunEntry(
        at=at,
        step_run_id=run.pk,
        enrollment_id=enrollment.pk,
        sequence_id=enrollment.sequence_id,
        sequence_name=enrollment.sequence.name,
        step_position=run.position,
        step_kind_label=StepKind(run.step.kind).label,
        subject=run_summary(run),
        state=run.state,
        state_label=run.get_state_display(),
        due_at=run.due_at,
        last_error=run.last_error,
        events=events,
    )


def _task_entry(task: Task, events: tuple[LedgerEntry, ...]) -> TaskEntry:
    run = task.step_run
    kind = StepKind(task.kind).label if task.kind in StepKind.values else task.kind
    return TaskEntry(
        at=task.completed_at or task.due_at,
        task_id=task.pk,
        title=task.title,
        task_kind_label=kind,
        status=task.status,
        status_label=task.get_status_display(),
        assignee=task.assignee.display_name,
        due_at=task.due_at,
        completed_at=task.completed_at,
        sequence_name=run.enrollment.sequence.name if run else "",
        step_position=run.position if run else None,
        events=events,
    )


def _inbound_entry(message: InboundMessage, events: tuple[LedgerEntry, ...]) -> InboundEmail:
    classification = message.classification if isinstance(message.classification, dict) else {}
    evidence = message.decision_evidence if isinstance(message.decision_evidence, dict) else {}
    confidence = classification.get("confidence")
    sentence = str(evidence.get("sentence") or "")
    return InboundEmail(
        at=message.when,
        inbound_message_id=message.pk,
        from_address=message.from_address,
        from_name=message.from_name,
        subject=message.subject,
        label=message.label,
        confidence=float(confidence) if isinstance(confidence, int | float) else None,
        reasons=tuple(str(r) for r in classification.get("reasons", [])),
        flags=tuple(str(f) for f in classification.get("flags", [])),
        decision=message.decision,
        decision_label=message.get_decision_display() if message.decision else "",
        decision_sentence=sentence,
        original_label=message.original_label,
        relabeled_by=message.relabeled_by.display_name if message.relabeled_by else "",
        enrollment_id=message.enrollment_id,
        events=tuple(e for e in events if e.sentence != sentence),
    )


def _meeting_entry(attendance: MeetingAttendee, events: tuple[LedgerEntry, ...]) -> MeetingEntry:
    meeting = attendance.meeting
    return MeetingEntry(
        at=meeting.starts_at,
        meeting_id=meeting.pk,
        title=meeting.title,
        ends_at=meeting.ends_at,
        time_zone=meeting.time_zone,
        location=meeting.location,
        organizer=meeting.organizer.display_name,
        source=meeting.source,
        source_label=meeting.get_source_display(),
        status=meeting.status,
        status_label=meeting.get_status_display(),
        response=attendance.response,
        response_label=attendance.get_response_display(),
        logged_at=meeting.logged_at,
        logged_by=meeting.created_by.display_name if meeting.created_by else "",
        events=events,
    )
