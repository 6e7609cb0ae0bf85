"""Act: carry out a Decision with the existing services, and resume paused enrollments.

Each effect goes through a service that is idempotent on its own (``unenroll``,
``pause``, ``resume``, a suppression's ``get_or_create``), so carrying out the
same decision twice changes nothing the second time.
"""

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.models import Contact, Suppression, SuppressionReason
from cadency.inbound.calendar_replies import record_answer
from cadency.inbound.decisions import Action, Decision, Effect
from cadency.inbound.models import InboundMessage, ScheduledResume
from cadency.ledger.services import record_event
from cadency.sequences.models import Enrollment, EnrollmentStatus
from cadency.sequences.services.enrollment import contact_label, pause, resume, unenroll


@dataclass(frozen=True)
class Done:
    """What one effect did, for the message's decision evidence."""

    action: str
    rule: str
    outcome: str
    enrollment: int | None = None
    address: str = ""
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in ("", None)}


def act(
    message: InboundMessage,
    decision: Decision,
    *,
    actor: User | None = None,
    timeline: bool = True,
    note: str = "",
) -> list[Done]:
    """Carry out every effect of ``decision`` for ``message``.

    ``actor`` is the user behind it (a relabel), else None (Cadency itself);
    ``note`` is added to the sentences; ``timeline=False`` skips the timeline entry
    (a relabel writes its own ledger event instead).
    """
    done: list[Done] = []
    with transaction.atomic():
        for effect in decision.effects:
            if effect.action == Action.TIMELINE and not timeline:
                continue
            done.append(carry_out(message, effect, actor=actor, note=note))
    return done


def result(effect: Effect, outcome: str, *, address: str = "", detail: str = "") -> Done:
    return Done(
        action=effect.action.value,
        rule=effect.rule,
        outcome=outcome,
        enrollment=effect.enrollment_id,
        address=address,
        detail=detail,
    )


def _enrollment(pk: int | None) -> Enrollment | None:
    if pk is None:
        return None
    return Enrollment.objects.select_related("contact", "sequence", "mailbox").filter(pk=pk).first()


def _contact(pk: int | None) -> Contact | None:
    return Contact.objects.filter(pk=pk).first() if pk is not None else None


def carry_out(message: InboundMessage, effect: Effect, *, actor: User | None, note: str) -> Done:
    sentence = f"{effect.sentence} {note}".strip()
    enrollment = _enrollment(effect.enrollment_id)
    contact = enrollment.contact if enrollment else _contact(effect.contact_id)
    data = {"inbound_message": message.pk, "message_id": message.message_id, **effect.data}

    def to_ledger(kind: str) -> None:
        record_event(
            kind=kind,
            contact=contact,
            enrollment=enrollment,
            actor=actor,
            sentence=sentence,
            data=data,
        )

    match effect.action:
        case Action.UNENROLL:
            assert enrollment is not None and effect.reason is not None
            evidence = {**effect.data, "inbound_message": message.pk}
            if actor is not None:
                evidence["relabeled_by"] = actor.username
            ended = unenroll(
                enrollment=enrollment,
                reason=effect.reason,
                actor=actor,
                sentence=sentence,
                evidence=evidence,
            )
            return result(effect, outcome="unenrolled" if ended else "already_ended")
        case Action.SUPPRESS:
            _, created = Suppression.objects.get_or_create(
                email=effect.address,
                defaults={
                    "reason": SuppressionReason.BOUNCED,
                    "detail": sentence,
                    "enrollment": enrollment,
                },
            )
            if created:
                record_event(
                    kind="suppressed",
                    contact=contact,
                    enrollment=enrollment,
                    actor=actor,
                    sentence=f"{effect.address} is suppressed: no sequence will email it again. "
                    f"{sentence}",
                    data={"reason": "bounced", **data},
                )
            return result(
                effect,
                outcome="suppressed" if created else "already_suppressed",
                address=effect.address,
            )
        case Action.COUNT_SOFT_BOUNCE:
            message.bounce_address = effect.address.lower()
            to_ledger("soft_bounce")
            return result(effect, outcome="counted", address=effect.address)
        case Action.ALERT_SEND_BLOCKED:
            to_ledger("send_blocked")
            return result(effect, outcome="rep_alerted", address=effect.address)
        case Action.PAUSE if effect.resume_on is None:
            assert enrollment is not None
            return result(effect, outcome=pause_for_person(enrollment))
        case Action.PAUSE:
            assert enrollment is not None and effect.resume_on is not None
            outcome = pause_until(enrollment, effect.resume_on, message, sentence)
            return result(effect, outcome=outcome, detail=effect.resume_on.isoformat())
        case Action.FLAG:
            to_ledger("contact_flagged")
            return result(effect, outcome="flagged")
        case Action.TIMELINE:
            to_ledger("message_received")
            return result(effect, outcome="recorded")
        case Action.MEETING_ANSWER:
            recorded = record_answer(
                message,
                effect.data,
                enrollment=enrollment,
                books=effect.reason is not None,
                sentence=sentence,
                actor=actor,
            )
            return result(effect, outcome=recorded.outcome, detail=recorded.detail)
    raise AssertionError(f"unhandled action {effect.action}")  # pragma: no cover


def pause_for_person(enrollment: Enrollment) -> str:
    """Pause until a person resumes it (a 5.7.x refusal: the sending side must be
    fixed first). An out-of-office pause already in place stops resuming by itself."""
    with transaction.atomic():
        locked = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        if locked.status == EnrollmentStatus.ACTIVE:
            pause(enrollment=locked, actor=None)
            return "paused"
        if locked.status != EnrollmentStatus.PAUSED:
            return "not_paused"  # ended meanwhile
        cancelled = ScheduledResume.objects.filter(enrollment=locked, done=False).update(
            done=True, done_at=timezone.now()
        )
        return "automatic_resume_cancelled" if cancelled else "already_paused"


def pause_until(
    enrollment: Enrollment, resume_on: dt.date, message: InboundMessage, sentence: str
) -> str:
    """Pause an active enrollment until ``resume_on`` (a later out-of-office
    reply moves the date). An enrollment a person paused is left alone."""
    with transaction.atomic():
        locked = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        pending = (
            ScheduledResume.objects.select_for_update()
            .filter(enrollment=locked, done=False)
            .first()
        )
        if locked.status == EnrollmentStatus.ACTIVE:
            if pending is not None:  # left over from a pause a person ended early
                pending.done, pending.done_at = True, timezone.now()
                pending.save(update_fields=["done", "done_at"])
            pause(enrollment=locked, actor=None)
            ScheduledResume.objects.create(enrollment=locked, resume_on=resume_on, message=message)
            outcome = "paused"
        elif locked.status == EnrollmentStatus.PAUSED and pending is not None:
            if pending.resume_on == resume_on:
                return "already_paused"
            pending.resume_on, pending.message = resume_on, message
            pending.save(update_fields=["resume_on", "message"])
            outcome = "resume_moved"
        else:
            return "not_paused"  # paused by a person, or ended: not ours to change
        record_event(
            kind="paused_until_return",
            enrollment=locked,
            sentence=sentence,
            data={"resume_on": resume_on.isoformat(), "inbound_message": message.pk},
        )
    return outcome


def resume_due(*, today: dt.date | None = None) -> int:
    """Resume the enrollments whose out-of-office return date has come (the
    sweep calls this). Returns how many were resumed. An enrollment that ended,
    or that a person resumed (or paused again) meanwhile, is left as it is."""
    today = today or timezone.now().date()
    resumed = 0
    due = ScheduledResume.objects.filter(done=False, resume_on__lte=today).order_by("pk")
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            item = (
                ScheduledResume.objects.select_for_update()
                .select_related("enrollment__contact", "enrollment__sequence")
                .filter(pk=pk, done=False)
                .first()
            )
            if item is None:
                continue
            enrollment = item.enrollment
            ours = enrollment.paused_at is not None and enrollment.paused_at <= item.created_at
            paused = enrollment.status == EnrollmentStatus.PAUSED
            if paused and ours and resume(enrollment=enrollment, actor=None):
                resumed += 1
                record_event(
                    kind="resumed_after_return",
                    enrollment=enrollment,
                    sentence=f"{contact_label(enrollment.contact)} is back "
                    f"({item.resume_on:%Y-%m-%d}): «{enrollment.sequence.name}» resumed "
                    "automatically after the out-of-office pause.",
                    data={"resume_on": item.resume_on.isoformat()},
                )
            item.done = True
            item.done_at = timezone.now()
            item.save(update_fields=["done", "done_at"])
    return resumed
