"""The end of a rep's absence: what Cadency paused resumes, and the backlog of
steps and tasks is spread over the following days (see absence.py)."""

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from cadency.accounts.models import User
from cadency.ledger.services import record_event
from cadency.mailboxes.models import Mailbox
from cadency.sequences.models import (
    Absence,
    AbsencePause,
    AbsenceTask,
    Enrollment,
    EnrollmentStatus,
    PauseOutcome,
    StepRun,
    StepRunState,
    Task,
    TaskStatus,
)
from cadency.sequences.services.absence import check_may_set_absence, plan_tasks
from cadency.sequences.services.catch_up import Pending, plan_catch_up
from cadency.sequences.services.enrollment import contact_label, policy_for
from cadency.sequences.services.queue import enqueue_step_run

logger = logging.getLogger(__name__)


@dataclass
class ReturnReport:
    """What ending an absence did. ``ended`` is False when it had already ended."""

    absence: Absence
    ended: bool = False
    resumed: int = 0
    left_as_they_were: int = 0
    steps_rescheduled: int = 0
    tasks_rescheduled: int = 0
    rescheduled: dict[int, dt.datetime] = field(default_factory=dict)


def end_absence(*, absence: Absence, actor: User) -> ReturnReport:
    """The user is back early (or on time): resume what the absence paused and
    spread the backlog. Ending an absence that has ended changes nothing."""
    check_may_set_absence(actor, absence.user)
    return finish_absence(absence, actor, timezone.now())


def end_due_absences(now: dt.datetime | None = None) -> int:
    """End the absences whose return day has come (the sweep). Returns how many."""
    now = now or timezone.now()
    due = Absence.objects.filter(ended_at=None, returns_at__lte=now).order_by("returns_at")
    ended = 0
    for absence in list(due.select_related("user")):
        try:
            ended += finish_absence(absence, None, now).ended
        except Exception:  # one broken absence must not stop the others or the sweep
            logger.exception("absence %s of %s could not be ended", absence.pk, absence.user)
    return ended


def finish_absence(absence: Absence, actor: User | None, now: dt.datetime) -> ReturnReport:
    with transaction.atomic():
        locked = Absence.objects.select_for_update().select_related("user").get(pk=absence.pk)
        if locked.ended_at is not None:
            return ReturnReport(locked)
        report = ReturnReport(locked, ended=True)
        resume_held_enrollments(locked, actor, now, report)
        report.tasks_rescheduled = spread_tasks(locked, now)
        locked.ended_at, locked.ended_by = now, actor
        locked.save(update_fields=["ended_at", "ended_by"])
        user = locked.user
        if actor is None or now >= locked.returns_at:
            how = f"{user.display_name} is back ({locked.until:%Y-%m-%d})"
        elif actor.pk == user.pk:
            how = f"{user.display_name} is back early (was away until {locked.until:%Y-%m-%d})"
        else:
            how = f"{actor.display_name} ended {user.display_name}'s absence early"
        record_event(
            kind="absence_ended",
            actor=actor,
            sentence=f"{how}: {report.resumed} enrollment(s) resumed, "
            f"{report.steps_rescheduled} overdue step(s) spread over the following days, "
            f"{report.tasks_rescheduled} task(s) rescheduled; {report.left_as_they_were} "
            "enrollment(s) left as someone else had set them.",
            data={
                "absence": locked.pk,
                "user": user.pk,
                "resumed": report.resumed,
                "steps_rescheduled": report.steps_rescheduled,
                "tasks_rescheduled": report.tasks_rescheduled,
                "left_as_they_were": report.left_as_they_were,
            },
        )
    absence.refresh_from_db()
    return report


def outcome_of(pause: AbsencePause, enrollment: Enrollment, today: dt.date) -> PauseOutcome:
    if not enrollment.is_open:
        return PauseOutcome.ENDED
    if enrollment.status == EnrollmentStatus.ACTIVE:
        return PauseOutcome.ALREADY_ACTIVE
    if enrollment.paused_at != pause.paused_at:
        return PauseOutcome.PAUSED_BY_SOMEONE
    if pause.out_of_office_until is not None and pause.out_of_office_until > today:
        return PauseOutcome.OUT_OF_OFFICE_RESTORED
    return PauseOutcome.RESUMED


def resume_held_enrollments(
    absence: Absence, actor: User | None, now: dt.datetime, report: ReturnReport
) -> None:
    resumed: list[Enrollment] = []
    today = now.astimezone(dt.UTC).date()  # out-of-office dates are UTC days (inbound.actions)
    for held in absence.pauses.filter(outcome=PauseOutcome.PENDING).order_by("pk"):
        enrollment = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("contact", "sequence", "mailbox")
            .get(pk=held.enrollment_id)
        )
        held.outcome = outcome_of(held, enrollment, today)
        if held.outcome == PauseOutcome.RESUMED:
            enrollment.status, enrollment.paused_at = EnrollmentStatus.ACTIVE, None
            enrollment.save(update_fields=["status", "paused_at"])
            held.resumed_at = now
            resumed.append(enrollment)
        elif held.outcome == PauseOutcome.OUT_OF_OFFICE_RESTORED:
            give_back_out_of_office(held, enrollment)
        held.save(update_fields=["outcome", "resumed_at"])
    report.resumed = len(resumed)
    report.left_as_they_were = absence.pauses.exclude(
        outcome__in=[PauseOutcome.RESUMED, PauseOutcome.ENDED]
    ).count()
    report.rescheduled = reschedule_backlog(resumed, now)
    report.steps_rescheduled = len(report.rescheduled)
    for enrollment in resumed:
        record_resumed(enrollment, absence, actor, report.rescheduled)


def give_back_out_of_office(held: AbsencePause, enrollment: Enrollment) -> None:
    from cadency.inbound.models import InboundMessage, ScheduledResume

    assert held.out_of_office_until is not None
    message_id = held.out_of_office_message_id
    message = InboundMessage.objects.filter(pk=message_id).first() if message_id else None
    ScheduledResume.objects.create(
        enrollment=enrollment, resume_on=held.out_of_office_until, message=message
    )
    record_event(
        kind="absence_returned_out_of_office",
        enrollment=enrollment,
        sentence=f"{held.absence.user.display_name} is back; {contact_label(enrollment.contact)} "
        f"stays paused for the out-of-office reply until {held.out_of_office_until:%Y-%m-%d}.",
        data={"absence": held.absence_id},
    )


def reschedule_backlog(enrollments: list[Enrollment], now: dt.datetime) -> dict[int, dt.datetime]:
    """Spread the resumed enrollments' overdue steps; every scheduled run ends up
    with exactly one live queued task at its due time."""
    if not enrollments:
        return {}
    runs = list(
        StepRun.objects.select_for_update(of=("self",))
        .filter(enrollment__in=enrollments, state=StepRunState.SCHEDULED)
        .order_by("due_at", "pk")
    )
    mailboxes = Mailbox.objects.filter(pk__in={r.mailbox_id for r in runs})
    catch_up = settings.CADENCY_ABSENCE_CATCHUP_PER_DAY
    plan = plan_catch_up(
        [Pending(r.pk, r.due_at, r.mailbox_id, r.enrollment_id) for r in runs],
        {m.pk: min(m.daily_limit, catch_up) for m in mailboxes},
        {e.pk: policy_for(e) for e in enrollments},
        now,
    )
    live = set(
        DBTaskResult.objects.filter(
            id__in=[r.task_id for r in runs if r.task_id], status=TaskResultStatus.READY
        ).values_list("id", flat=True)
    )
    stale = []
    for run in runs:
        if run.pk in plan:
            stale.append(run.task_id)
            run.due_at = plan[run.pk]
            run.save(update_fields=["due_at"])
        elif run.task_id in live:
            continue
        enqueue_step_run(run)
    DBTaskResult.objects.filter(
        id__in=[t for t in stale if t in live], status=TaskResultStatus.READY
    ).update(
        status=TaskResultStatus.SUCCESSFUL,
        finished_at=now,
        return_value="rescheduled after an absence",
    )
    return plan


def record_resumed(
    enrollment: Enrollment,
    absence: Absence,
    actor: User | None,
    rescheduled: Mapping[int, dt.datetime],
) -> None:
    who = actor.display_name if actor else "Cadency"
    steps = []
    moved = {}
    for run in enrollment.step_runs.filter(state=StepRunState.SCHEDULED).order_by("position"):
        if run.pk in rescheduled:
            moved[run.position] = run.due_at.isoformat()
            steps.append(f"step {run.position} rescheduled to {run.due_at:%Y-%m-%d %H:%M} UTC")
        else:
            steps.append(f"step {run.position} stays due {run.due_at:%Y-%m-%d %H:%M} UTC")
    detail = f"; {', '.join(steps)}" if steps else ""
    record_event(
        kind="resumed",
        enrollment=enrollment,
        actor=actor,
        sentence=f"{who} resumed {contact_label(enrollment.contact)} in "
        f"«{enrollment.sequence.name}» after {absence.user.display_name}'s absence{detail}.",
        data={"absence": absence.pk, "rescheduled": moved},
    )


def spread_tasks(absence: Absence, now: dt.datetime) -> int:
    """Tasks moved for the absence, plus open ones that fell due meanwhile, are
    spread from ``now``; a moved task not yet due at an early return goes back
    to its own time. A task someone rescheduled meanwhile is left alone."""
    moves = {
        m.task_id: m
        for m in absence.tasks.select_related("task").filter(task__status=TaskStatus.OPEN)
        if m.task.due_at == m.moved_to
    }
    arrived = list(
        Task.objects.select_for_update()
        .filter(assignee=absence.user, status=TaskStatus.OPEN, due_at__lt=now)
        .exclude(pk__in=absence.tasks.values("task_id"))
    )
    originals = {m.task_id: m.original_due_at for m in moves.values()}
    originals.update({t.pk: t.due_at for t in arrived})
    tasks = [m.task for m in moves.values()] + arrived
    plan = plan_tasks(absence.user, originals, now)
    changed = []
    for task in tasks:
        target = plan.get(task.pk, originals[task.pk])
        if task.due_at != target:
            task.due_at = target
            changed.append(task)
        if task.pk in moves:
            moves[task.pk].moved_to = target
    Task.objects.bulk_update(changed, ["due_at"], batch_size=500)
    AbsenceTask.objects.bulk_update(moves.values(), ["moved_to"], batch_size=500)
    AbsenceTask.objects.bulk_create(
        AbsenceTask(absence=absence, task=t, original_due_at=originals[t.pk], moved_to=t.due_at)
        for t in arrived
    )
    return len(changed)
