"""Relabel: a person corrects the classifier, and the decision is made again (SPEC §8).

The corrected label replaces the classifier's (the original is kept), the
decide and act stages run again, and the ledger records who changed what, when.
A machine message relabelled as a person's reply now ends the enrollment; a
reply relabelled as machine mail does not bring an ended enrollment back —
re-enrolling is a person's decision.
"""

import datetime as dt
from dataclasses import replace

from django.db import transaction
from django.utils import timezone

from cadency.accounts.models import User
from cadency.inbound.actions import act
from cadency.inbound.classification import Classification, Label
from cadency.inbound.decisions import Policy, decide
from cadency.inbound.identity import identify
from cadency.inbound.models import DecisionCode, InboundMessage, InboundStatus
from cadency.inbound.pipeline import finish, previous_decisions
from cadency.ledger.services import record_event


class RelabelError(ValueError):
    """The relabel was refused; nothing changed. The message says why."""


def parse_label(value: str) -> Label:
    try:
        return Label(value.strip().lower())
    except ValueError:
        raise RelabelError(
            f"unknown label {value!r}; use one of: {', '.join(label.value for label in Label)}"
        ) from None


def check_may_relabel(message: InboundMessage, actor: User) -> None:
    if not actor.is_active:
        raise RelabelError(f"{actor.username} is deactivated and cannot relabel")
    if not actor.can_act_on_all_enrollments() and message.mailbox.user_id != actor.pk:
        raise RelabelError(
            f"message {message.pk} arrived in {message.mailbox.email}, which is not "
            f"{actor.username}'s; a {actor.role} may only relabel mail of their own mailboxes"
        )
    if message.status == InboundStatus.IGNORED_OWN:
        raise RelabelError(f"message {message.pk} is a copy of our own email: nothing to relabel")


def relabel(
    *, message: InboundMessage, label: Label | str, actor: User, now: dt.datetime | None = None
) -> InboundMessage:
    """Set the message's label to ``label`` and decide again. Raises RelabelError
    (and changes nothing) for an unknown label, the same label, or a user who may
    not act on the message's mailbox."""
    new = label if isinstance(label, Label) else parse_label(label)
    now = now or timezone.now()
    check_may_relabel(message, actor)
    with transaction.atomic():
        locked = (
            InboundMessage.objects.select_for_update().select_related("mailbox").get(pk=message.pk)
        )
        old = locked.get_classification()
        old_label = Label(locked.label) if locked.label else None
        if old_label == new:
            raise RelabelError(f"message {locked.pk} is already labelled {new.value}")
        before = old_label.value if old_label else "(unclassified)"
        base = old or Classification(label=new, confidence=1.0, reasons=[])
        corrected = replace(
            base,
            label=new,
            confidence=1.0,
            reasons=[*base.reasons, f"relabelled from {before} to {new.value} by {actor.username}"],
        )
        history = previous_decisions(locked, "relabeled", now, relabeled_by=actor.username)
        was_unenrolled = locked.decision == DecisionCode.UNENROLLED
        locked.original_label = locked.original_label or (old_label.value if old_label else "")
        locked.relabeled_by = actor
        locked.relabeled_at = now
        locked.set_classification(corrected)
        identification = identify(locked, corrected)
        decision = decide(corrected, identification, Policy.from_settings(now.date()))
        note = f"(After {actor.display_name} relabelled the message as {new.value}.)"
        done = act(locked, decision, actor=actor, timeline=False, note=note)
        finish(locked, identification, decision, [d.as_dict() for d in done], now, history=history)
        sentence = (
            f"{actor.display_name} relabelled the message from "
            f"{locked.from_address or 'an unknown sender'} (“{locked.subject or '(no subject)'}”) "
            f"from {before} to {new.value} on {now.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC. "
            f"{decision.sentence}"
        )
        if was_unenrolled and not new.is_human:
            sentence += (
                " It had ended an enrollment as a reply: the enrollment stays ended; "
                "re-enroll by hand if needed."
            )
        record_event(
            kind="relabeled",
            contact=locked.contact,
            enrollment=locked.enrollment,
            actor=actor,
            sentence=sentence,
            data={
                "inbound_message": locked.pk,
                "message_id": locked.message_id,
                "from": before,
                "to": new.value,
                "by": actor.username,
                "at": now.isoformat(),
                "decision": decision.code.value,
                "rules": list(decision.rules),
            },
        )
    return locked
