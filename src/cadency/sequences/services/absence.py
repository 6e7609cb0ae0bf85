"""Rep absence (SPEC §8): a user's enrollments and tasks wait until they are back,
and the backlog is then spread over the following days instead of sent in a burst.

Only what Cadency paused for the absence resumes on return (``AbsencePause``): an
enrollment a person paused, or one waiting for a contact's out-of-office return
date after the user's return, stays as it is. An out-of-office pause whose date
falls inside the absence is held until the user is back (sending while the rep is
away is what the absence prevents) and handed back if they return before it.

On return, the scheduled steps that fell due while away get new due times from
:func:`plan_catch_up`: per mailbox at most ``min(daily_limit,
CADENCY_ABSENCE_CATCHUP_PER_DAY)`` a day, oldest first, spaced across each send
window. Open tasks due before the return move to the days after it, at most
``CADENCY_ABSENCE_TASKS_PER_DAY`` a day, in working hours of the user's zone.
"""

import datetime as dt
import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from cadency.accounts.models import User
from cadency.accounts.permissions import may_act_on
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
from cadency.sequences.services import scheduling
from cadency.sequences.services.enrollment import contact_label, pause, policy_for
from cadency.sequences.services.queue import enqueue_step_run

logger = logging.getLogger(__name__)

MAX_ABSENCE_DAYS = 365
# Tasks are for people: they land in working hours, Monday to Friday.
TASK_HOURS = (dt.time(9, 0), dt.time(17, 0))
WORKDAYS = frozenset(range(5))
TASK_POLICY_KEY = 0


class AbsenceCode(StrEnum):
    DATE_NOT_IN_FUTURE = "date_not_in_future"
    DATE_TOO_FAR = "date_too_far"
    ALREADY_AWAY = "already_away"
    NOT_AWAY = "not_away"
    USER_INACTIVE = "user_inactive"


class AbsenceRefused(Exception):
    """A refused absence change; nothing was written."""

    def __init__(self, code: AbsenceCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- planning (pure) ------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """Something with a due time to place: a step run or a task.

    ``lane`` shares a daily capacity (a mailbox; the user for tasks); ``policy_key``
    names the send window it must land in (an enrollment's).
    """

    id: int
    due_at: dt.datetime
    lane: int
    policy_key: int


@dataclass(frozen=True)
class _Day:
    date: dt.date
    opens: dt.datetime
    closes: dt.datetime
    capacity: int


def _days(policy: scheduling.SendPolicy, start: dt.datetime, per_day: int) -> Iterator[_Day]:
    """The policy's send windows from ``start`` on. A first window already under
    way gets its share of the day's capacity, so a return at 3 pm is no burst."""
    moment = scheduling.next_send_time(start, policy)
    while True:
        date = moment.astimezone(policy.tz).date()
        opens, closes = policy.window_on(date)
        share = (closes - moment) / (closes - opens)
        yield _Day(date, moment, closes, max(1, math.ceil(per_day * share)))
        moment = scheduling.next_day_start(moment, policy)


def plan_catch_up(
    runs: Iterable[Pending],
    capacity_per_day: Mapping[int, int],
    policies: Mapping[int, scheduling.SendPolicy],
    start: dt.datetime,
) -> dict[int, dt.datetime]:
    """New due times for what fell due before ``start``: {id: due time}.

    Per lane at most its capacity a day (days are the window's own), oldest due
    first, spread evenly across each day's window. What is due at or after
    ``start`` keeps its time and is left out of the answer; nothing moves earlier.
    """
    backlog = sorted((r for r in runs if r.due_at < start), key=lambda r: (r.due_at, r.id))
    cursors: dict[tuple[int, scheduling.SendPolicy], tuple[Iterator[_Day], _Day]] = {}
    taken: dict[tuple[int, dt.date], list[tuple[Pending, _Day]]] = defaultdict(list)
    for run in backlog:
        policy = policies[run.policy_key]
        key = (run.lane, policy)
        if key not in cursors:
            days = _days(policy, start, max(1, capacity_per_day[run.lane]))
            cursors[key] = (days, next(days))
        days, day = cursors[key]
        while len(taken[(run.lane, day.date)]) >= day.capacity:
            day = next(days)
        cursors[key] = (days, day)
        taken[(run.lane, day.date)].append((run, day))
    plan: dict[int, dt.datetime] = {}
    for placed in taken.values():
        for index, (run, day) in enumerate(placed):
            plan[run.id] = day.opens + (day.closes - day.opens) * index // len(placed)
    return plan


# --- reading ----------------------------------------------------------------------


def user_zone(user: User) -> ZoneInfo:
    """The zone a user's days are counted in: their first mailbox's, else UTC."""
    name = user.mailboxes.order_by("pk").values_list("time_zone", flat=True).first()
    return scheduling.resolve_zone(name or "")


def returns_at(user: User, until: dt.date) -> dt.datetime:
    """Midnight of the return day, in the user's zone."""
    return dt.datetime.combine(until, dt.time(0), tzinfo=user_zone(user)).astimezone(dt.UTC)


def current_absence(user: User) -> Absence | None:
    return Absence.objects.filter(user=user, ended_at=None).select_related("user").first()


def task_policy(user: User) -> scheduling.SendPolicy:
    opens, closes = TASK_HOURS
    return scheduling.SendPolicy(opens, closes, WORKDAYS, True, user_zone(user))


@dataclass(frozen=True)
class Preview:
    """What setting the user away until a date would hold, for the confirmation."""

    enrollments: int
    tasks: int


def preview_absence(*, user: User, until: dt.date) -> Preview:
    return Preview(
        enrollments=Enrollment.objects.filter(
            enrolled_by=user, status=EnrollmentStatus.ACTIVE
        ).count(),
        tasks=Task.objects.filter(
            assignee=user, status=TaskStatus.OPEN, due_at__lt=returns_at(user, until)
        ).count(),
    )


def check_may_set_absence(actor: User, user: User) -> None:
    """Refuse (403) a rep setting another user's absence."""
    if not may_act_on(actor, user.pk):
        raise PermissionDenied(
            f"only {user.username}, a manager or an admin may change {user.username}'s "
            f"absence; {actor.username} is a {actor.role}"
        )


# --- starting ---------------------------------------------------------------------


def check_return_date(user: User, until: dt.date) -> None:
    today = timezone.now().astimezone(user_zone(user)).date()
    if until <= today:
        raise AbsenceRefused(
            AbsenceCode.DATE_NOT_IN_FUTURE,
            f"the return date {until:%Y-%m-%d} must be after today ({today:%Y-%m-%d} in "
            f"{user.username}'s time zone); nothing was changed",
        )
    if until > today + dt.timedelta(days=MAX_ABSENCE_DAYS):
        raise AbsenceRefused(
            AbsenceCode.DATE_TOO_FAR,
            f"the return date {until:%Y-%m-%d} is more than {MAX_ABSENCE_DAYS} days away; "
            "nothing was changed",
        )


def start_absence(*, user: User, until: dt.date, actor: User, note: str = "") -> Absence:
    """Set ``user`` away until ``until``: pause their active enrollments and move
    their open tasks due before then to the days after the return.

    Raises PermissionDenied (a rep acting for someone else) or AbsenceRefused.
    """
    check_may_set_absence(actor, user)
    if not user.is_active:
        raise AbsenceRefused(
            AbsenceCode.USER_INACTIVE, f"{user.username} is deactivated; nothing was changed"
        )
    check_return_date(user, until)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one change at a time
        current = current_absence(user)
        if current is not None:
            raise AbsenceRefused(
                AbsenceCode.ALREADY_AWAY,
                f"{user.username} is already away until {current.until:%Y-%m-%d}; end that "
                "absence first; nothing was changed",
            )
        absence = Absence.objects.create(
            user=user,
            starts_at=timezone.now(),
            until=until,
            returns_at=returns_at(user, until),
            note=note,
            created_by=actor,
        )
        paused = pause_active_enrollments(absence, actor)
        held = hold_out_of_office_pauses(absence)
        tasks = move_tasks_past_return(absence)
        by = "" if actor.pk == user.pk else f" (set by {actor.display_name})"
        record_event(
            kind="absence_started",
            actor=actor,
            sentence=f"{user.display_name} is away until {until:%Y-%m-%d}{by}: {paused} "
            f"enrollment(s) paused, {held} out-of-office pause(s) held until the return, "
            f"{tasks} open task(s) moved to after the return.",
            data={
                "absence": absence.pk,
                "user": user.pk,
                "until": until.isoformat(),
                "enrollments_paused": paused,
                "out_of_office_held": held,
                "tasks_moved": tasks,
            },
        )
    return absence


def pause_active_enrollments(absence: Absence, actor: User | None) -> int:
    ids = Enrollment.objects.filter(
        enrolled_by=absence.user, status=EnrollmentStatus.ACTIVE
    ).values_list("pk", flat=True)
    paused = 0
    for enrollment in Enrollment.objects.filter(pk__in=list(ids)).order_by("pk"):
        paused += hold(enrollment, absence, actor)
    return paused


def hold(enrollment: Enrollment, absence: Absence, actor: User | None) -> bool:
    if not pause(enrollment=enrollment, actor=actor):
        return False  # it ended or was paused meanwhile
    assert enrollment.paused_at is not None
    AbsencePause.objects.create(
        absence=absence, enrollment=enrollment, paused_at=enrollment.paused_at
    )
    return True


def hold_out_of_office_pauses(absence: Absence) -> int:
    """Out-of-office pauses that would resume while the user is away wait for them."""
    from cadency.inbound.models import ScheduledResume

    pending = (
        ScheduledResume.objects.select_for_update(of=("self",))
        .select_related("enrollment__contact", "enrollment__sequence")
        .filter(
            done=False,
            resume_on__lte=absence.until,
            enrollment__enrolled_by=absence.user,
            enrollment__status=EnrollmentStatus.PAUSED,
            # Paused by the out-of-office reply, not by a person since (as resume_due).
            enrollment__paused_at__lte=F("created_at"),
        )
        .order_by("pk")
    )
    held = 0
    for item in pending:
        enrollment = item.enrollment
        assert enrollment.paused_at is not None
        item.done, item.done_at = True, timezone.now()
        item.save(update_fields=["done", "done_at"])
        AbsencePause.objects.create(
            absence=absence,
            enrollment=enrollment,
            paused_at=enrollment.paused_at,
            out_of_office_until=item.resume_on,
            out_of_office_message_id=item.message_id,
        )
        record_event(
            kind="absence_held_out_of_office",
            enrollment=enrollment,
            sentence=f"{contact_label(enrollment.contact)} was to resume on "
            f"{item.resume_on:%Y-%m-%d} after an out-of-office pause; it now waits for "
            f"{absence.user.display_name}'s return on {absence.until:%Y-%m-%d}.",
            data={"absence": absence.pk, "out_of_office_until": item.resume_on.isoformat()},
        )
        held += 1
    return held


def move_tasks_past_return(absence: Absence) -> int:
    tasks = list(
        Task.objects.select_for_update()
        .filter(assignee=absence.user, status=TaskStatus.OPEN, due_at__lt=absence.returns_at)
        .order_by("due_at", "pk")
    )
    plan = plan_tasks(absence.user, {t.pk: t.due_at for t in tasks}, absence.returns_at)
    AbsenceTask.objects.bulk_create(
        AbsenceTask(absence=absence, task=t, original_due_at=t.due_at, moved_to=plan[t.pk])
        for t in tasks
    )
    for task in tasks:
        task.due_at = plan[task.pk]
    Task.objects.bulk_update(tasks, ["due_at"], batch_size=500)
    return len(tasks)


def plan_tasks(
    user: User, due: Mapping[int, dt.datetime], start: dt.datetime
) -> dict[int, dt.datetime]:
    """New due times for the tasks (id → due time) that fell due before ``start``."""
    return plan_catch_up(
        [Pending(pk, at, user.pk, TASK_POLICY_KEY) for pk, at in due.items()],
        {user.pk: settings.CADENCY_ABSENCE_TASKS_PER_DAY},
        {TASK_POLICY_KEY: task_policy(user)},
        start,
    )


def pause_if_absent(enrollment: Enrollment) -> bool:
    """Hold a new enrollment of a user who is away: it waits for their return.

    Meant for ``enroll`` to call inside its transaction, before the first step runs.
    """
    absence = Absence.objects.filter(user_id=enrollment.enrolled_by_id, ended_at=None).first()
    if absence is None or not hold(enrollment, absence, None):
        return False
    record_event(
        kind="absence_held_enrollment",
        enrollment=enrollment,
        sentence=f"{absence.user.display_name} is away until {absence.until:%Y-%m-%d}: "
        "this new enrollment waits for the return.",
        data={"absence": absence.pk},
    )
    return True


# --- ending -----------------------------------------------------------------------


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
