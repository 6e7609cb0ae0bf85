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
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cadency.accounts.models import User
from cadency.accounts.permissions import may_act_on
from cadency.ledger.services import record_event
from cadency.sequences.models import (
    Absence,
    AbsencePause,
    AbsenceTask,
    Enrollment,
    EnrollmentStatus,
    Task,
    TaskStatus,
)
from cadency.sequences.services import scheduling
from cadency.sequences.services.catch_up import Pending, plan_catch_up
from cadency.sequences.services.enrollment import contact_label, pause

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
