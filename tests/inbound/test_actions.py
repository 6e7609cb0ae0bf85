"""Act: identify → decide → act on real rows, with Classification objects built directly."""

import datetime as dt

import pytest
from django.utils import timezone
from pytest_django.fixtures import SettingsWrapper

from cadency.contacts.models import ContactEmail, Suppression
from cadency.inbound.actions import resume_due
from cadency.inbound.classification import Classification, Flag, Label
from cadency.inbound.models import InboundMessage, InboundStatus, ScheduledResume
from cadency.ledger.models import Event
from cadency.sequences.models import Enrollment, StepRunState
from cadency.sequences.services.enrollment import pause, resume
from tests.factories import make_company, make_contact
from tests.inbound.support import (
    WHEN,
    classified,
    enrolled,
    our_id,
    process,
    rep,
    reply_to,
    sequence,
)

pytestmark = pytest.mark.django_db


def fresh(enrollment: Enrollment) -> Enrollment:
    enrollment.refresh_from_db()
    return enrollment


def test_a_reply_unenrolls_with_evidence_and_a_sentence() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"), sent_steps=2)
    message = process(mailbox, classified(), **reply_to(enrollment, 2))
    assert (message.status, message.decision) == (InboundStatus.PROCESSED, "unenrolled")
    enrollment = fresh(enrollment)
    assert (enrollment.status, enrollment.reason) == ("unenrolled", "replied")
    assert enrollment.reason_text == (
        "Jane Doe replied from jane@acme.test to step 2 (“Quick question”) on 2026-11-28 10:02 UTC."
    )
    assert enrollment.evidence == {
        "message_id": message.message_id,
        "from": "jane@acme.test",
        "rule": "replied",
        "classification": {
            "label": "human_reply",
            "reasons": ["test: human_reply"],
            "classifier_version": "test-1",
        },
        "match": "enrolled_address",
        "thread": "in_reply_to",
        "inbound_message": message.pk,
    }
    assert enrollment.ended_by is None, "Cadency did it"
    assert enrollment.step_runs.filter(state=StepRunState.SCHEDULED).count() == 0
    assert (message.contact_id, message.enrollment_id) == (enrollment.contact_id, enrollment.pk)
    kinds = list(Event.objects.filter(enrollment=enrollment).values_list("kind", flat=True))
    assert kinds[-2:] == ["unenrolled", "message_received"]


def test_an_alias_emailing_outside_the_thread_is_emailed_from_alias() -> None:
    user, mailbox = rep()
    jane = make_contact("jane@acme.test")
    ContactEmail.objects.create(contact=jane, email="jane.doe@gmail.com")
    enrollment = enrolled(user, jane)
    process(mailbox, classified(), sender="JaneDoe@googlemail.com", subject="Call?")
    enrollment = fresh(enrollment)
    assert enrollment.reason == "emailed_from_alias"
    assert enrollment.evidence["match"] == "alias:gmail_dots+googlemail+case"


def test_the_company_rule_on_ends_colleagues_and_off_leaves_them() -> None:
    user, mailbox = rep()
    acme = make_company("Acme", "acme.test")
    jane = enrolled(user, make_contact("jane@acme.test", company=acme))
    on = sequence(user, name="Accounts", unenroll_same_company=True)
    off = sequence(user, name="Nurture")
    john = enrolled(user, make_contact("john@acme.test", company=acme, first_name="John"), on)
    ann = enrolled(user, make_contact("ann@eu.acme.test", first_name="Ann"), off)
    process(mailbox, classified(), **reply_to(jane))
    assert fresh(jane).reason == "replied"
    assert (fresh(john).status, fresh(john).reason) == ("unenrolled", "company_replied")
    assert fresh(john).evidence["rule"] == "company_replied"
    assert fresh(ann).status == "active"


def test_a_free_mail_colleague_never_counts_as_the_same_company() -> None:
    user, mailbox = rep()
    accounts = sequence(user, name="Accounts", unenroll_same_company=True)
    jane = enrolled(user, make_contact("jane.roe@gmail.com"), accounts)
    john = enrolled(user, make_contact("john.roe@gmail.com", first_name="John"), accounts)
    process(mailbox, classified(), sender="jane.roe@gmail.com", **reply_to(jane))
    assert fresh(jane).reason == "replied"
    assert fresh(john).status == "active"


def test_a_hard_bounce_unenrolls_and_suppresses_the_address() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    bounce = classified(
        Label.BOUNCE_HARD,
        failed=[("jane@acme.test", "5.1.1")],
        original_message_id=our_id(enrollment, 1),
    )
    message = process(mailbox, bounce, sender="MAILER-DAEMON@mx.acme.test", subject="Undelivered")
    enrollment = fresh(enrollment)
    assert (enrollment.status, enrollment.reason) == ("unenrolled", "bounced")
    assert enrollment.evidence["match"] == "original_message_id"
    suppression = Suppression.objects.get(email="jane@acme.test")
    assert (suppression.reason, suppression.enrollment_id) == ("bounced", enrollment.pk)
    assert Event.objects.filter(kind="suppressed", enrollment=enrollment).count() == 1
    assert message.decision == "unenrolled"


def test_a_bounce_for_an_unknown_address_suppresses_nothing() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    bounce = classified(Label.BOUNCE_HARD, failed=[("ghost@acme.test", "5.1.1")])
    message = process(mailbox, bounce, sender="MAILER-DAEMON@mx.acme.test", subject="Undelivered")
    assert message.decision == "no_enrollment"
    assert not Suppression.objects.exists()
    assert fresh(enrollment).status == "active"


def test_soft_bounces_count_up_to_the_limit_then_unenroll(settings: SettingsWrapper) -> None:
    settings.CADENCY_SOFT_BOUNCE_LIMIT = 3
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    full = classified(Label.BOUNCE_SOFT, failed=[("jane@acme.test", "5.2.2")])
    decisions = []
    for _ in range(3):
        message = process(mailbox, full, sender="MAILER-DAEMON@mx.acme.test", subject="Full")
        decisions.append(message.decision)
        if len(decisions) < 3:
            assert fresh(enrollment).status == "active"
            assert not Suppression.objects.exists()
    assert decisions == ["bounce_counted", "bounce_counted", "unenrolled"]
    assert (fresh(enrollment).status, fresh(enrollment).reason) == ("unenrolled", "bounced")
    assert Suppression.objects.filter(email="jane@acme.test").exists()
    assert Event.objects.filter(kind="soft_bounce", enrollment=enrollment).count() == 2


def test_soft_bounces_older_than_the_window_no_longer_count(settings: SettingsWrapper) -> None:
    settings.CADENCY_SOFT_BOUNCE_LIMIT = 3
    settings.CADENCY_SOFT_BOUNCE_WINDOW_DAYS = 30
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    full = classified(Label.BOUNCE_SOFT, failed=[("jane@acme.test", "5.2.2")])

    def soft_bounce() -> InboundMessage:
        return process(mailbox, full, sender="MAILER-DAEMON@mx.acme.test", subject="Full")

    first, second = soft_bounce(), soft_bounce()
    long_ago = timezone.now() - dt.timedelta(days=31)
    InboundMessage.objects.filter(pk__in=[first.pk, second.pk]).update(received_at=long_ago)
    third = soft_bounce()
    assert third.decision == "bounce_counted", "the two old ones are outside the window"
    assert "soft bounce 1 of 3 within 30 days" in third.decision_evidence["sentence"]
    assert fresh(enrollment).status == "active"
    assert [soft_bounce().decision for _ in range(2)] == ["bounce_counted", "unenrolled"]
    assert (fresh(enrollment).status, fresh(enrollment).reason) == ("unenrolled", "bounced")
    assert Suppression.objects.filter(email="jane@acme.test").exists()


def policy_block(enrollment: Enrollment) -> Classification:
    return classified(
        Label.BOUNCE_HARD,
        failed=[(enrollment.email, "5.7.1")],
        original_message_id=our_id(enrollment, 1),
    )


def test_a_policy_block_in_a_dsn_pauses_and_alerts_like_at_smtp_time_and_never_suppresses() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    message = process(
        mailbox, policy_block(enrollment), sender="MAILER-DAEMON@mx.acme.test", subject="Refused"
    )
    assert message.decision == "send_blocked"
    assert fresh(enrollment).status == "paused"
    assert not Suppression.objects.exists()
    alert = Event.objects.get(kind="send_blocked", enrollment=enrollment)
    assert "not the contact" in alert.sentence
    assert "paused until someone resumes it" in alert.sentence
    assert Event.objects.filter(kind="paused", enrollment=enrollment).exists()
    assert not ScheduledResume.objects.exists(), "only a person resumes it"
    outcomes = {e["action"]: e["outcome"] for e in message.decision_evidence["effects"]}
    assert outcomes["alert_send_blocked"] == "rep_alerted"
    assert outcomes["pause"] == "paused"


def test_a_policy_block_cancels_the_automatic_resume_of_an_out_of_office_pause() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"), pause_on_out_of_office=True)
    back = WHEN.date() + dt.timedelta(days=10)
    process(mailbox, classified(Label.AUTO_REPLY, return_date=back), **reply_to(enrollment))
    assert fresh(enrollment).status == "paused"
    message = process(mailbox, policy_block(enrollment), sender="MAILER-DAEMON@mx.acme.test")
    (pause_done,) = [e for e in message.decision_evidence["effects"] if e["action"] == "pause"]
    assert pause_done["outcome"] == "automatic_resume_cancelled"
    assert resume_due(today=back) == 0
    assert fresh(enrollment).status == "paused"


def test_a_policy_block_leaves_a_person_paused_enrollment_as_it_is() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    pause(enrollment=enrollment, actor=user)
    message = process(mailbox, policy_block(enrollment), sender="MAILER-DAEMON@mx.acme.test")
    assert message.decision == "send_blocked"
    outcomes = {e["action"]: e["outcome"] for e in message.decision_evidence["effects"]}
    assert outcomes["pause"] == "already_paused"
    assert fresh(enrollment).status == "paused"
    resume(enrollment=enrollment, actor=user)
    assert fresh(enrollment).status == "active"


def test_an_out_of_office_pauses_until_the_return_date_and_resume_due_resumes() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"), pause_on_out_of_office=True)
    back = WHEN.date() + dt.timedelta(days=10)
    ooo = classified(Label.AUTO_REPLY, return_date=back)
    message = process(mailbox, ooo, subject="Out of office", **reply_to(enrollment))
    assert message.decision == "paused_until_return"
    assert fresh(enrollment).status == "paused"
    scheduled = ScheduledResume.objects.get(enrollment=enrollment)
    assert (scheduled.resume_on, scheduled.done) == (back, False)
    assert message.decision_evidence["effects"][0]["detail"] == back.isoformat()

    assert resume_due(today=back - dt.timedelta(days=1)) == 0
    assert fresh(enrollment).status == "paused"
    assert resume_due(today=back) == 1
    assert fresh(enrollment).status == "active"
    scheduled.refresh_from_db()
    assert scheduled.done
    assert Event.objects.filter(kind="resumed_after_return", enrollment=enrollment).exists()
    assert resume_due(today=back) == 0, "done once"


def test_a_second_out_of_office_moves_the_return_date() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"), pause_on_out_of_office=True)
    first, later = WHEN.date() + dt.timedelta(days=3), WHEN.date() + dt.timedelta(days=9)
    process(mailbox, classified(Label.AUTO_REPLY, return_date=first), **reply_to(enrollment))
    process(mailbox, classified(Label.AUTO_REPLY, return_date=later), subject="Auto: away")
    assert ScheduledResume.objects.get(enrollment=enrollment, done=False).resume_on == later


def test_an_enrollment_a_person_resumed_and_paused_again_is_not_resumed_automatically() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"), pause_on_out_of_office=True)
    back = WHEN.date() + dt.timedelta(days=2)
    process(mailbox, classified(Label.AUTO_REPLY, return_date=back), **reply_to(enrollment))
    resume(enrollment=enrollment, actor=user)
    pause(enrollment=enrollment, actor=user)
    assert resume_due(today=back) == 0
    assert fresh(enrollment).status == "paused"


def test_a_person_paused_enrollment_is_not_taken_over_by_an_out_of_office() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"), pause_on_out_of_office=True)
    pause(enrollment=enrollment, actor=user)
    back = WHEN.date() + dt.timedelta(days=2)
    message = process(
        mailbox, classified(Label.AUTO_REPLY, return_date=back), **reply_to(enrollment)
    )
    assert message.decision_evidence["effects"][0]["outcome"] == "not_paused"
    assert not ScheduledResume.objects.exists()


def test_an_out_of_office_without_the_setting_changes_nothing() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    back = WHEN.date() + dt.timedelta(days=10)
    message = process(
        mailbox, classified(Label.AUTO_REPLY, return_date=back), **reply_to(enrollment)
    )
    assert message.decision == "timeline_only"
    assert fresh(enrollment).status == "active"
    event = Event.objects.get(kind="message_received", enrollment=enrollment)
    assert event.data["reasons"] == ["test: auto_reply"]
    assert event.data["label"] == "auto_reply"


def test_a_left_company_reply_flags_the_contact_for_the_rep() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    left = classified(Label.AUTO_REPLY, flags=frozenset({Flag.LEFT_COMPANY}))
    message = process(mailbox, left, subject="Jane has left Acme", **reply_to(enrollment))
    assert message.decision == "contact_flagged"
    assert fresh(enrollment).status == "active"
    flag = Event.objects.get(kind="contact_flagged")
    assert flag.enrollment_id == enrollment.pk and "has left the company" in flag.sentence
