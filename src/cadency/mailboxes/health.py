"""A mailbox that keeps failing pauses its enrollments and alerts its user; they
resume when it works again (issue 6, "Account-level events"). Never a silent failure.

Every path that talks to a mailbox's servers reports here: a send (SMTP), the
watcher's and the pre-send check's IMAP login, and the connection test (the
page's Test button, the worker's periodic re-test, new credentials). Failures to
connect or log in are counted per side (SMTP, IMAP), consecutively; a success
resets its side. Failures of one side closer together than ``SAME_FAILURE``
count once: a batch of sends refused together, or a watcher's quick reconnects,
are one observation of the problem, not several.

At ``CADENCY_MAILBOX_FAILURES_BEFORE_PAUSE`` failures the *active* enrollments
sending through the mailbox are paused, each recorded in ``MailboxPause``, and the
mailbox's user is alerted (one open alert per mailbox). When both sides are below
the limit again, exactly those enrollments resume — one a person paused, or
resumed and paused again, meanwhile is left as it is — and the alert is resolved.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cadency.accounts.alerts import alert_user, resolve_alerts
from cadency.accounts.models import User
from cadency.ledger.services import record_event
from cadency.mailboxes.models import Health, Mailbox, MailboxPause
from cadency.sequences.models import Enrollment, EnrollmentStatus
from cadency.sequences.services.enrollment import contact_label, pause, resume

SAME_FAILURE = dt.timedelta(seconds=30)
HEALTH_FIELDS = (
    "health",
    "last_error",
    "last_checked_at",
    "smtp_failures",
    "smtp_failed_at",
    "imap_failures",
    "imap_failed_at",
    "failing_since",
)


class Side(StrEnum):
    SMTP = "smtp"
    IMAP = "imap"


WHAT_FAILS = {Side.SMTP: "send through it (SMTP)", Side.IMAP: "read it (IMAP)"}


@dataclass(frozen=True)
class FailureReport:
    failures: int  # consecutive failures of that side, after this one
    counted: bool  # False: too close to the previous one to count again
    paused: int  # enrollments paused now


def failures_before_pause() -> int:
    return max(1, int(settings.CADENCY_MAILBOX_FAILURES_BEFORE_PAUSE))


def alert_key(mailbox: Mailbox) -> str:
    return f"mailbox_failing:{mailbox.pk}"


def record_mailbox_failure(
    mailbox: Mailbox, side: Side, error: str, *, now: dt.datetime | None = None
) -> FailureReport:
    """A connection or login to ``side`` failed: mark the mailbox failing, count it,
    and at the limit pause its active enrollments and alert."""
    now = now or timezone.now()
    count_field, at_field = f"{side}_failures", f"{side}_failed_at"
    with transaction.atomic():
        locked = Mailbox.objects.select_for_update().select_related("user").get(pk=mailbox.pk)
        last: dt.datetime | None = getattr(locked, at_field)
        counted = last is None or abs(now - last) >= SAME_FAILURE
        if counted:
            setattr(locked, count_field, getattr(locked, count_field) + 1)
            setattr(locked, at_field, now)
        locked.failing_since = locked.failing_since or now
        locked.health, locked.last_error, locked.last_checked_at = Health.FAILING, error, now
        locked.save(update_fields=list(HEALTH_FIELDS))
        failures: int = getattr(locked, count_field)
        paused = 0
        if failures >= failures_before_pause():
            paused = pause_enrollments(locked, error)
            if paused or (counted and failures == failures_before_pause()):
                record_event(
                    kind="mailbox_failing",
                    sentence=f"The mailbox {locked.email} keeps failing: Cadency could not "
                    f"{WHAT_FAILS[side]} {failures} times in a row ({error}). {paused} "
                    f"enrollment{'s' if paused != 1 else ''} sending through it "
                    f"{'were' if paused != 1 else 'was'} paused and "
                    f"{locked.user.display_name} was alerted.",
                    data={
                        "mailbox": locked.pk,
                        "side": side.value,
                        "failures": failures,
                        "error": error,
                        "paused": paused,
                    },
                )
            alert_users(locked, side, error, failures)
    _copy_health(locked, mailbox)
    return FailureReport(failures, counted, paused)


def record_mailbox_working(mailbox: Mailbox, sides: Iterable[Side], *, via: str) -> int:
    """``sides`` connected and logged in (``via``: what showed it). Resets their
    counts; once no side is at the limit, resumes the enrollments Cadency paused for
    this mailbox and resolves the alert. Returns how many resumed. Costs one small
    query when the mailbox was healthy already."""
    sides = list(sides)
    state = (
        Mailbox.objects.filter(pk=mailbox.pk)
        .values_list("health", "smtp_failures", "imap_failures")
        .first()
    )
    if state is None or state == (Health.OK, 0, 0):
        return 0
    now = timezone.now()
    with transaction.atomic():
        locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        for side in sides:
            setattr(locked, f"{side}_failures", 0)
            setattr(locked, f"{side}_failed_at", None)
        if locked.smtp_failures == 0 and locked.imap_failures == 0:
            locked.health, locked.last_error, locked.failing_since = Health.OK, "", None
        locked.last_checked_at = now
        locked.save(update_fields=list(HEALTH_FIELDS))
        resumed = 0
        if max(locked.smtp_failures, locked.imap_failures) < failures_before_pause():
            resumed = resume_enrollments(locked, via)
            closed = resolve_alerts(
                key=alert_key(locked),
                resolution=f"{locked.email} works again ({via}); {resumed} "
                f"enrollment{'s' if resumed != 1 else ''} resumed.",
            )
            if resumed or closed:
                record_event(
                    kind="mailbox_working_again",
                    sentence=f"The mailbox {locked.email} works again ({via}); {resumed} "
                    f"enrollment{'s' if resumed != 1 else ''} Cadency had paused for it "
                    f"resumed.",
                    data={"mailbox": locked.pk, "via": via, "resumed": resumed},
                )
    _copy_health(locked, mailbox)
    return resumed


def pause_enrollments(mailbox: Mailbox, error: str) -> int:
    """Pause the active enrollments sending through ``mailbox`` and remember them.
    Paused ones (by a person, an out-of-office, an absence) are not touched."""
    paused = 0
    ids = Enrollment.objects.filter(mailbox=mailbox, status=EnrollmentStatus.ACTIVE)
    for pk in list(ids.values_list("pk", flat=True)):
        enrollment = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("contact", "sequence")
            .get(pk=pk)
        )
        if enrollment.status != EnrollmentStatus.ACTIVE:
            continue
        # Left over from a pause of ours a person ended early by resuming it.
        MailboxPause.objects.filter(enrollment=enrollment, done=False).update(
            done=True, done_at=timezone.now(), outcome="resumed_by_someone"
        )
        pause(enrollment=enrollment, actor=None)
        assert enrollment.paused_at is not None
        MailboxPause.objects.create(
            mailbox=mailbox, enrollment=enrollment, paused_at=enrollment.paused_at, error=error
        )
        record_event(
            kind="paused_mailbox_failing",
            enrollment=enrollment,
            sentence=f"{contact_label(enrollment.contact)} in «{enrollment.sequence.name}» "
            f"was paused because the mailbox {mailbox.email} keeps failing: "
            f"{error.rstrip('. ')}. "
            "It resumes by itself when the mailbox works again.",
            data={"mailbox": mailbox.pk, "error": error},
        )
        paused += 1
    return paused


def resume_enrollments(mailbox: Mailbox, via: str) -> int:
    """Resume what Cadency paused for ``mailbox``; steps that fell due meanwhile go at
    the next send window (``enrollment.resume``)."""
    resumed = 0
    pending = MailboxPause.objects.filter(mailbox=mailbox, done=False).order_by("pk")
    for item in list(pending):
        enrollment = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("contact", "sequence", "mailbox")
            .get(pk=item.enrollment_id)
        )
        ours = (
            enrollment.status == EnrollmentStatus.PAUSED and enrollment.paused_at == item.paused_at
        )
        if ours and resume(enrollment=enrollment, actor=None):
            item.outcome = "resumed"
            resumed += 1
            record_event(
                kind="resumed_mailbox_fixed",
                enrollment=enrollment,
                sentence=f"{contact_label(enrollment.contact)} in «{enrollment.sequence.name}» "
                f"resumed: the mailbox {mailbox.email} works again ({via}).",
                data={"mailbox": mailbox.pk, "via": via},
            )
        else:
            item.outcome = left_because(enrollment)
        item.done, item.done_at = True, timezone.now()
        item.save(update_fields=["outcome", "done", "done_at"])
    return resumed


def left_because(enrollment: Enrollment) -> str:
    if not enrollment.is_open:
        return "ended"
    if enrollment.status == EnrollmentStatus.PAUSED:
        return "paused_by_someone"
    return "resumed_by_someone"


def alert_users(mailbox: Mailbox, side: Side, error: str, failures: int) -> None:
    """The mailbox's user, and anyone whose enrollments through it are paused."""
    waiting = MailboxPause.objects.filter(mailbox=mailbox, done=False)
    count = waiting.count()
    users = {mailbox.user_id: mailbox.user}
    for user in User.objects.filter(
        enrollments__mailbox_pauses__in=waiting, is_active=True
    ).distinct():
        users.setdefault(user.pk, user)
    since = mailbox.failing_since or timezone.now()
    body = (
        f"Cadency could not {WHAT_FAILS[side]} {failures} times in a row, since "
        f"{since:%Y-%m-%d %H:%M} UTC. Last error: {error}\n"
        f"{count} enrollment{'s' if count != 1 else ''} sending through it "
        f"{'are' if count != 1 else 'is'} paused and will resume by "
        f"{'themselves' if count != 1 else 'itself'} once it works again. Check its "
        "password or token and its server settings, then use “Test the connection” on "
        "the mailbox page."
    )
    for user in users.values():
        alert_user(
            user=user,
            kind="mailbox_failing",
            key=alert_key(mailbox),
            title=f"The mailbox {mailbox.email} keeps failing",
            body=body,
            link=reverse("mailboxes:detail", args=[mailbox.pk]),
        )


def _copy_health(source: Mailbox, target: Mailbox) -> None:
    for name in HEALTH_FIELDS:
        setattr(target, name, getattr(source, name))
