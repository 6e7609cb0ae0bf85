"""Relabel: a person corrects the label; the decision, the enrollment and the ledger follow."""

import datetime as dt

import pytest

from cadency.accounts.models import Role
from cadency.contacts.models import Suppression
from cadency.inbound.classification import Label
from cadency.inbound.models import InboundStatus
from cadency.inbound.relabel import RelabelError, relabel
from cadency.ledger.models import Event
from cadency.sequences.models import Enrollment
from tests.factories import make_contact, make_user
from tests.inbound.support import WHEN, classified, enrolled, process, rep, reply_to

pytestmark = pytest.mark.django_db

LATER = WHEN + dt.timedelta(hours=1)


def fresh(enrollment: Enrollment) -> Enrollment:
    enrollment.refresh_from_db()
    return enrollment


def test_an_auto_reply_relabelled_as_a_reply_unenrolls_replied() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    message = process(mailbox, classified(Label.AUTO_REPLY), **reply_to(enrollment))
    assert fresh(enrollment).status == "active"

    changed = relabel(message=message, label="human_reply", actor=user, now=LATER)
    assert (changed.label, changed.original_label, changed.decision) == (
        "human_reply",
        "auto_reply",
        "unenrolled",
    )
    assert (changed.relabeled_by, changed.relabeled_at) == (user, LATER)
    assert changed.get_classification() is not None
    assert changed.classification["reasons"][-1] == (
        "relabelled from auto_reply to human_reply by alice"
    )
    enrollment = fresh(enrollment)
    assert (enrollment.status, enrollment.reason, enrollment.ended_by) == (
        "unenrolled",
        "replied",
        user,
    )
    assert enrollment.evidence["relabeled_by"] == "alice"
    assert "After Alice Example relabelled the message as human_reply" in enrollment.reason_text
    event = Event.objects.get(kind="relabeled")
    assert (event.actor, event.enrollment_id) == (user, enrollment.pk)
    assert event.data["from"] == "auto_reply" and event.data["to"] == "human_reply"
    assert event.data["by"] == "alice" and event.data["at"] == LATER.isoformat()
    assert "from auto_reply to human_reply on 2026-11-28 11:02 UTC" in event.sentence
    (earlier,) = changed.decision_evidence["history"]
    assert (earlier["label"], earlier["decision"]) == ("auto_reply", "timeline_only")


def test_a_reply_relabelled_as_machine_mail_does_not_re_enroll() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    message = process(mailbox, classified(), **reply_to(enrollment))
    assert fresh(enrollment).reason == "replied"

    changed = relabel(message=message, label=Label.AUTO_REPLY, actor=user, now=LATER)
    assert changed.decision == "no_enrollment"
    assert fresh(enrollment).status == "unenrolled", "stays ended"
    event = Event.objects.get(kind="relabeled")
    assert "the enrollment stays ended; re-enroll by hand if needed" in event.sentence


def test_relabelling_a_soft_bounce_takes_it_out_of_the_count() -> None:
    user, mailbox = rep()
    enrolled(user, make_contact("jane@acme.test"))
    soft = classified(Label.BOUNCE_SOFT, failed=[("jane@acme.test", "4.2.2")])
    message = process(mailbox, soft, sender="MAILER-DAEMON@mx.acme.test", subject="Delayed")
    assert message.bounce_address == "jane@acme.test"
    changed = relabel(message=message, label="delay", actor=user, now=LATER)
    assert (changed.decision, changed.bounce_address) == ("timeline_only", "")
    assert not Suppression.objects.exists()


def test_refusals_change_nothing() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    message = process(mailbox, classified(Label.AUTO_REPLY), **reply_to(enrollment))
    bo = make_user("bo")
    with pytest.raises(RelabelError, match="unknown label 'spam'"):
        relabel(message=message, label="spam", actor=user)
    with pytest.raises(RelabelError, match="already labelled auto_reply"):
        relabel(message=message, label="auto_reply", actor=user)
    with pytest.raises(RelabelError, match="a rep may only relabel mail of their own mailboxes"):
        relabel(message=message, label="human_reply", actor=bo)
    message.refresh_from_db()
    assert (message.label, message.original_label, message.relabeled_by) == ("auto_reply", "", None)
    assert fresh(enrollment).status == "active"
    assert not Event.objects.filter(kind="relabeled").exists()


def test_a_manager_may_relabel_anyones_mail() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    message = process(mailbox, classified(Label.READ_RECEIPT), **reply_to(enrollment))
    manager = make_user("mo", role=Role.MANAGER)
    relabel(message=message, label="human_reply", actor=manager)
    assert (fresh(enrollment).reason, fresh(enrollment).ended_by) == ("replied", manager)


def test_a_failed_message_can_be_labelled_by_hand() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    message = process(mailbox, classified(), **reply_to(enrollment))
    type(message).objects.filter(pk=message.pk).update(
        status=InboundStatus.FAILED, label="", classification={}, decision=""
    )
    message.refresh_from_db()
    changed = relabel(message=message, label="human_reply", actor=user)
    assert (changed.status, changed.original_label) == ("processed", "")
    assert changed.classification["reasons"] == [
        "relabelled from (unclassified) to human_reply by alice"
    ]
