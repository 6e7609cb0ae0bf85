"""Decide: every row of the decision table, on facts built directly (no database)."""

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from cadency.inbound.classification import Flag, Label
from cadency.inbound.decisions import RULES, Action, Decision, Policy, bounce_kind, decide
from cadency.inbound.identity import (
    BounceTarget,
    CompanyKey,
    EnrollmentFacts,
    Identification,
    SenderMatch,
    ThreadMatch,
)
from cadency.inbound.models import DecisionCode
from tests.inbound.support import WHEN, classified

TODAY = WHEN.date()
POLICY = Policy(today=TODAY, soft_bounce_limit=3, return_horizon_days=60)
ACME = CompanyKey(company_id=7, domain="acme.test", label="Acme")
ALICE = 1  # the user whose mailbox received the message


def enrollment(pk: int = 10, email: str = "jane@acme.test", **fields: Any) -> EnrollmentFacts:
    defaults: dict[str, Any] = {
        "id": pk,
        "contact_id": pk * 10,
        "contact_name": "Jane Doe",
        "email": email,
        "status": "active",
        "mailbox_id": 1,
        "mailbox_email": "alice@example.test",
        "enrolled_by_id": ALICE,
        "sequence_name": "Intro",
        "same_company_rule": False,
        "pause_on_out_of_office": False,
        "company": ACME,
    }
    return EnrollmentFacts(**{**defaults, **fields})


JANE = enrollment()


def thread(of: EnrollmentFacts = JANE, how: str = "in_reply_to") -> ThreadMatch:
    return ThreadMatch("<cadency.1@example.test>", of.email, 2, "Quick question", how, of)


def sender(of: EnrollmentFacts = JANE, address: str = "", **fields: Any) -> SenderMatch:
    defaults: dict[str, Any] = {
        "contact_id": of.contact_id,
        "contact_name": of.contact_name,
        "address": address or of.email,
        "via": "primary",
        "forms": (),
    }
    return SenderMatch(**{**defaults, **fields})


def ident(from_address: str = "jane@acme.test", **fields: Any) -> Identification:
    defaults: dict[str, Any] = {
        "message_id": "<inbound.1@mail.acme.test>",
        "from_address": from_address,
        "from_name": "",
        "subject": "Re: Quick question",
        "when": WHEN,
        "mailbox_id": 1,
        "mailbox_email": "alice@example.test",
        "mailbox_user_id": ALICE,
        "sender_company": ACME,
    }
    return Identification(**{**defaults, **fields})


def unenrolled(decision: Decision) -> dict[int, str]:
    return {e.enrollment_id or 0: str(e.reason) for e in decision.of(Action.UNENROLL)}


# --- a person answered ---------------------------------------------------------------


def test_a_reply_in_the_thread_from_the_enrolled_address_is_replied() -> None:
    decision = decide(
        classified(), ident(sender=sender(), thread=thread(), sender_enrollment=JANE), POLICY
    )
    assert decision.code == DecisionCode.UNENROLLED
    assert decision.rules == ("replied",)
    assert unenrolled(decision) == {JANE.id: "replied"}
    (effect,) = decision.of(Action.UNENROLL)
    assert effect.sentence == (
        "Jane Doe replied from jane@acme.test to step 2 (“Quick question”) on 2026-11-28 10:02 UTC."
    )
    assert effect.data["rule"] == "replied"
    assert effect.data["message_id"] == "<inbound.1@mail.acme.test>"
    assert effect.data["from"] == "jane@acme.test"
    assert effect.data["match"] == "enrolled_address"
    assert effect.data["classification"] == {
        "label": "human_reply",
        "reasons": ["test: human_reply"],
        "classifier_version": "test-1",
    }


def test_the_enrolled_address_written_differently_still_replied() -> None:
    found = ident("Jane+phone@acme.test", sender=sender(forms=("plus_address", "case")))
    decision = decide(classified(), replace(found, thread=thread()), POLICY)
    assert unenrolled(decision) == {JANE.id: "replied"}
    assert decision.of(Action.UNENROLL)[0].match == "plus_address+case"


def test_a_meeting_answer_in_the_thread_counts_as_a_reply() -> None:
    decision = decide(classified(Label.CALENDAR_REPLY), ident(thread=thread()), POLICY)
    assert unenrolled(decision) == {JANE.id: "replied"}


def test_someone_else_in_the_thread_is_replied_other_address() -> None:
    decision = decide(classified(), ident("assistant@acme.test", thread=thread()), POLICY)
    assert unenrolled(decision) == {JANE.id: "replied_other_address"}
    (effect,) = decision.of(Action.UNENROLL)
    assert "not the enrolled address jane@acme.test" in effect.sentence
    assert effect.match == "unknown_sender"


@pytest.mark.parametrize(
    ("copied", "says"), [("cc", "sent to Jane Doe with Jane Doe in Cc, on"), ("to", "(also")]
)
def test_a_colleague_replying_with_the_contact_copied_says_so_in_the_evidence(
    copied: str, says: str
) -> None:
    colleague = sender(enrollment(pk=11, email="john@acme.test"), contact_name="John Roe")
    found = ident(
        "john@acme.test", sender=colleague, thread=replace(thread(), contact_copied=copied)
    )
    decision = decide(classified(), found, POLICY)
    assert unenrolled(decision) == {JANE.id: "replied_other_address"}
    (effect,) = decision.of(Action.UNENROLL)
    assert effect.match == "other_contact:primary"
    assert effect.data["contact_copied"] == copied
    assert says in effect.sentence


def test_a_reply_in_the_thread_without_the_contact_copied_has_no_copy_evidence() -> None:
    decision = decide(classified(), ident("assistant@acme.test", thread=thread()), POLICY)
    assert "contact_copied" not in decision.of(Action.UNENROLL)[0].data


@pytest.mark.parametrize("how", ["forwarded", "forwarded_subject", "references"])
def test_the_contact_forwarding_our_email_is_replied(how: str) -> None:
    found = ident(sender=sender(), thread=thread(how=how), sender_enrollment=JANE)
    decision = decide(classified(), found, POLICY)
    assert unenrolled(decision) == {JANE.id: "replied"}
    assert decision.of(Action.UNENROLL)[0].data["thread"] == how


def test_an_auto_reply_in_the_thread_with_the_contact_in_cc_never_counts() -> None:
    found = ident("assistant@acme.test", thread=replace(thread(), contact_copied="cc"))
    decision = decide(classified(Label.AUTO_REPLY), found, POLICY)
    assert decision.code == DecisionCode.TIMELINE_ONLY
    assert not decision.of(Action.UNENROLL)


def test_the_contact_replying_from_an_alias_in_the_thread_is_replied_other_address() -> None:
    alias = sender(address="j.doe@acme.test", via="alias")
    decision = decide(classified(), ident("j.doe@acme.test", sender=alias, thread=thread()), POLICY)
    assert unenrolled(decision) == {JANE.id: "replied_other_address"}
    assert decision.of(Action.UNENROLL)[0].match == "same_contact:alias"


def test_the_contact_emailing_outside_the_thread_is_emailed() -> None:
    decision = decide(
        classified(), ident(subject="Pricing", sender=sender(), sender_enrollment=JANE), POLICY
    )
    assert unenrolled(decision) == {JANE.id: "emailed"}
    assert "emailed alice@example.test from jane@acme.test outside the sequence" in (
        decision.sentence
    )


@pytest.mark.parametrize(
    ("written", "match"),
    [
        ("j.doe@acme.test", "alias"),  # an additional address
        ("jane+news@acme.test", "plus_address"),
        ("Jane@acme.test", "case"),
    ],
)
def test_the_contact_emailing_from_an_alias_is_emailed_from_alias(written: str, match: str) -> None:
    via = "alias" if match == "alias" else "primary"
    forms = () if match == "alias" else (match,)
    found = ident(written, sender=sender(address=written, via=via, forms=forms))
    decision = decide(classified(), replace(found, sender_enrollment=JANE), POLICY)
    assert unenrolled(decision) == {JANE.id: "emailed_from_alias"}
    assert decision.of(Action.UNENROLL)[0].match == match


def test_gmail_forms_of_the_enrolled_address_are_emailed_from_alias() -> None:
    gmail = enrollment(email="janedoe@gmail.com", company=None)
    found = ident(
        "Jane.Doe@googlemail.com",
        sender=sender(gmail, forms=("gmail_dots", "googlemail", "case")),
        sender_enrollment=gmail,
        sender_company=None,
    )
    decision = decide(classified(), found, POLICY)
    assert unenrolled(decision) == {gmail.id: "emailed_from_alias"}
    assert decision.of(Action.UNENROLL)[0].match == "gmail_dots+googlemail+case"


def test_the_contact_emailing_another_user_leaves_the_enrollment() -> None:
    found = ident(subject="Hi", sender=sender(), sender_enrollment=JANE, mailbox_user_id=99)
    decision = decide(classified(), found, POLICY)
    assert decision.code == DecisionCode.TIMELINE_ONLY, "recorded; Alice's enrollment goes on"
    assert not decision.of(Action.UNENROLL)


COLLEAGUE = enrollment(11, "john@acme.test", contact_name="John Roe", same_company_rule=True)


def test_a_colleague_answering_ends_same_company_enrollments_when_the_sequence_asks() -> None:
    found = ident(sender=sender(), thread=thread(), colleagues=(COLLEAGUE,))
    decision = decide(classified(), found, POLICY)
    assert unenrolled(decision) == {JANE.id: "replied", COLLEAGUE.id: "company_replied"}
    assert decision.rules == ("replied", "company_replied")
    effect = next(e for e in decision.of(Action.UNENROLL) if e.rule == "company_replied")
    assert "Jane Doe (jane@acme.test), of the same company as John Roe (Acme)" in effect.sentence
    assert effect.data["rule"] == "company_replied" and effect.data["match"] == "company"


def test_the_company_rule_off_leaves_colleagues_enrolled() -> None:
    off = replace(COLLEAGUE, same_company_rule=False)
    decision = decide(classified(), ident(sender=sender(), colleagues=(off,)), POLICY)
    assert COLLEAGUE.id not in unenrolled(decision)


def test_an_unknown_person_of_the_company_emailing_counts_for_the_company_rule() -> None:
    found = ident("cfo@acme.test", subject="Your offer", colleagues=(COLLEAGUE,))
    decision = decide(classified(), found, POLICY)
    assert unenrolled(decision) == {COLLEAGUE.id: "company_replied"}


def test_machine_mail_from_the_company_never_triggers_the_company_rule() -> None:
    found = ident(sender=sender(), sender_enrollment=JANE, colleagues=(COLLEAGUE,))
    decision = decide(classified(Label.AUTO_REPLY), found, POLICY)
    assert not decision.of(Action.UNENROLL)


def test_someone_from_the_reps_own_organisation_is_not_the_company_replying() -> None:
    found = ident("boss@example.test", internal=True, colleagues=(COLLEAGUE,))
    assert not decide(classified(), found, POLICY).of(Action.UNENROLL)


def test_an_enrollment_ended_by_one_rule_is_not_claimed_again() -> None:
    both = replace(JANE, same_company_rule=True)
    found = ident(sender=sender(both), thread=thread(both), colleagues=(both,))
    assert unenrolled(decide(classified(), found, POLICY)) == {both.id: "replied"}


def test_a_reply_to_an_ended_enrollment_with_no_other_open_one_is_no_enrollment() -> None:
    ended = replace(JANE, status="unenrolled")
    decision = decide(classified(), ident(sender=sender(ended), thread=thread(ended)), POLICY)
    assert decision.code == DecisionCode.NO_ENROLLMENT
    (timeline,) = decision.of(Action.TIMELINE)
    assert timeline.contact_id == JANE.contact_id
    assert "no open enrollment is concerned" in timeline.sentence


def test_a_message_from_no_one_we_know_is_no_enrollment_without_a_timeline() -> None:
    decision = decide(classified(), ident("stranger@globex.test", sender_company=None), POLICY)
    assert decision.code == DecisionCode.NO_ENROLLMENT
    assert decision.effects == ()
    assert decision.rules == ("no_enrollment",)


# --- bounces -------------------------------------------------------------------------


def bounce(
    status: str = "5.1.1",
    *,
    of: EnrollmentFacts | None = JANE,
    ours: bool = True,
    prior: int = 0,
    days_ago: tuple[int, ...] = (),
) -> BounceTarget:
    """``prior`` soft bounces counted on the days before, or one ``days_ago`` each."""
    earlier = days_ago or tuple(range(1, prior + 1))
    return BounceTarget(
        address="jane@acme.test",
        status=status,
        action="failed",
        diagnostic="550 5.1.1 <jane@acme.test>: Recipient address rejected: User unknown",
        enrollment=of,
        ours=ours,
        step_position=2 if ours else None,
        step_subject="Quick question" if ours else "",
        earlier_soft_bounces=tuple(WHEN - dt.timedelta(days=d) for d in earlier),
    )


def test_a_hard_bounce_for_the_enrolled_address_unenrolls_and_suppresses() -> None:
    decision = decide(classified(Label.BOUNCE_HARD), ident(bounces=(bounce(),)), POLICY)
    assert decision.code == DecisionCode.UNENROLLED
    assert unenrolled(decision) == {JANE.id: "bounced"}
    (suppress,) = decision.of(Action.SUPPRESS)
    assert suppress.address == "jane@acme.test"
    assert decision.sentence.startswith(
        "Step 2 (“Quick question”) to jane@acme.test bounced permanently (5.1.1 550 5.1.1"
    )


def test_a_hard_bounce_for_an_unknown_address_does_nothing() -> None:
    unknown = bounce(of=None, ours=False)
    decision = decide(classified(Label.BOUNCE_HARD), ident(bounces=(unknown,)), POLICY)
    assert decision.code == DecisionCode.NO_ENROLLMENT
    assert decision.effects == ()


def test_a_hard_bounce_of_our_message_to_an_ended_enrollment_still_suppresses() -> None:
    ended = replace(JANE, status="finished")
    decision = decide(classified(Label.BOUNCE_HARD), ident(bounces=(bounce(of=ended),)), POLICY)
    assert decision.code == DecisionCode.SUPPRESSED
    assert not decision.of(Action.UNENROLL)


@pytest.mark.parametrize("prior", [0, 1])
def test_soft_bounces_are_counted_below_the_limit(prior: int) -> None:
    decision = decide(
        classified(Label.BOUNCE_SOFT), ident(bounces=(bounce("4.2.2", prior=prior),)), POLICY
    )
    assert decision.code == DecisionCode.BOUNCE_COUNTED
    (count,) = decision.of(Action.COUNT_SOFT_BOUNCE)
    assert count.data["count"] == prior + 1
    assert (
        f"soft bounce {prior + 1} of 3 within 30 days; the enrollment continues" in count.sentence
    )
    assert not decision.of(Action.SUPPRESS)


def test_the_soft_bounce_that_reaches_the_limit_unenrolls_and_suppresses() -> None:
    decision = decide(
        classified(Label.BOUNCE_SOFT), ident(bounces=(bounce("5.2.2", prior=2),)), POLICY
    )
    assert unenrolled(decision) == {JANE.id: "bounced"}
    assert decision.of(Action.SUPPRESS)
    assert decision.rules == ("soft_bounce_limit",)


def test_only_soft_bounces_within_the_window_count_towards_the_limit() -> None:
    old = bounce("5.2.2", days_ago=(45, 31))  # the window is 30 days
    decision = decide(classified(Label.BOUNCE_SOFT), ident(bounces=(old,)), POLICY)
    assert decision.code == DecisionCode.BOUNCE_COUNTED
    (count,) = decision.of(Action.COUNT_SOFT_BOUNCE)
    assert count.data["count"] == 1
    assert "soft bounce 1 of 3 within 30 days" in count.sentence

    recent = bounce("5.2.2", days_ago=(45, 29, 2))
    decision = decide(classified(Label.BOUNCE_SOFT), ident(bounces=(recent,)), POLICY)
    assert unenrolled(decision) == {JANE.id: "bounced"}
    assert "soft bounce 3 of 3 within 30 days: it now counts as a bounce" in decision.sentence


def test_a_window_of_zero_days_counts_every_soft_bounce() -> None:
    old = bounce("5.2.2", days_ago=(400, 200))
    every = replace(POLICY, soft_bounce_window_days=0)
    decision = decide(classified(Label.BOUNCE_SOFT), ident(bounces=(old,)), every)
    assert unenrolled(decision) == {JANE.id: "bounced"}
    assert "soft bounce 3 of 3: it now counts" in decision.sentence


def test_soft_bounces_received_after_this_one_do_not_count_for_it() -> None:
    later = bounce("5.2.2", days_ago=(-1, -2))  # a reprocess of an older report
    decision = decide(classified(Label.BOUNCE_SOFT), ident(bounces=(later,)), POLICY)
    assert decision.code == DecisionCode.BOUNCE_COUNTED
    assert decision.of(Action.COUNT_SOFT_BOUNCE)[0].data["count"] == 1


def test_the_window_is_measured_from_when_the_report_was_received() -> None:
    received = WHEN + dt.timedelta(days=20)  # the Date header says WHEN
    old = bounce("5.2.2", days_ago=(15, 12))  # 35 and 32 days before it was received
    found = ident(bounces=(old,), received_at=received)
    decision = decide(classified(Label.BOUNCE_SOFT), found, POLICY)
    assert decision.of(Action.COUNT_SOFT_BOUNCE)[0].data["count"] == 1


def test_a_policy_block_alerts_the_rep_pauses_and_never_suppresses() -> None:
    for label in (Label.BOUNCE_HARD, Label.BOUNCE_SOFT):
        decision = decide(classified(label), ident(bounces=(bounce("5.7.1"),)), POLICY)
        assert decision.code == DecisionCode.SEND_BLOCKED
        assert decision.rules == ("send_blocked",)
        effects = [e for e in decision.effects if e.action != Action.TIMELINE]
        assert [(e.action, e.enrollment_id) for e in effects] == [
            (Action.ALERT_SEND_BLOCKED, JANE.id),
            (Action.PAUSE, JANE.id),
        ]
        assert effects[1].resume_on is None, "until a person resumes it"
        assert "not the contact" in decision.sentence
        assert "the enrollment is paused until someone resumes it" in decision.sentence
        assert not decision.of(Action.SUPPRESS) and not decision.of(Action.UNENROLL)


def test_a_policy_block_for_an_ended_enrollment_only_alerts() -> None:
    ended = replace(JANE, status="unenrolled")
    found = ident(bounces=(bounce("5.7.26", of=ended),))
    decision = decide(classified(Label.BOUNCE_HARD), found, POLICY)
    assert decision.code == DecisionCode.SEND_BLOCKED
    assert not decision.of(Action.PAUSE)
    assert "paused" not in decision.sentence


@pytest.mark.parametrize(
    ("label", "status", "kind"),
    [
        (Label.BOUNCE_HARD, "5.1.1", "hard"),
        (Label.BOUNCE_HARD, "5.2.2", "soft"),  # mailbox full: retried before it counts
        (Label.BOUNCE_SOFT, "5.1.1", "hard"),  # the status code decides
        (Label.BOUNCE_HARD, "4.4.7", "soft"),
        (Label.BOUNCE_SOFT, "5.7.26", "policy"),
        (Label.BOUNCE_HARD, "", "hard"),  # no code: the label decides
        (Label.BOUNCE_SOFT, "", "soft"),
    ],
)
def test_enhanced_status_codes_decide_the_kind_of_bounce(
    label: Label, status: str, kind: str
) -> None:
    assert bounce_kind(label, bounce(status)) == kind


# --- machine mail --------------------------------------------------------------------


def test_an_out_of_office_with_a_return_date_pauses_when_the_sequence_asks() -> None:
    pausing = replace(JANE, pause_on_out_of_office=True)
    back = TODAY + dt.timedelta(days=10)
    found = ident(sender=sender(pausing), thread=thread(pausing), sender_enrollment=pausing)
    decision = decide(classified(Label.AUTO_REPLY, return_date=back), found, POLICY)
    assert decision.code == DecisionCode.PAUSED_UNTIL_RETURN
    (pause,) = decision.of(Action.PAUSE)
    assert (pause.enrollment_id, pause.resume_on) == (JANE.id, back)
    assert "says they are back on 2026-12-08" in pause.sentence
    assert not decision.of(Action.UNENROLL)


def test_an_out_of_office_without_the_setting_is_timeline_only() -> None:
    back = TODAY + dt.timedelta(days=10)
    found = ident(sender=sender(), thread=thread())
    decision = decide(classified(Label.AUTO_REPLY, return_date=back), found, POLICY)
    assert decision.code == DecisionCode.TIMELINE_ONLY
    (timeline,) = decision.effects
    assert timeline.action == Action.TIMELINE
    assert timeline.data["reasons"] == ["test: auto_reply"]
    assert "«Intro» continues for Jane Doe" in timeline.sentence


@pytest.mark.parametrize("days", [-1, 0, 61])
def test_a_return_date_in_the_past_or_too_far_ahead_is_ignored(days: int) -> None:
    pausing = replace(JANE, pause_on_out_of_office=True)
    back = TODAY + dt.timedelta(days=days)
    decision = decide(
        classified(Label.AUTO_REPLY, return_date=back), ident(thread=thread(pausing)), POLICY
    )
    assert decision.code == DecisionCode.TIMELINE_ONLY


def test_an_out_of_office_naming_no_date_pauses_for_the_default_when_configured() -> None:
    pausing = replace(JANE, pause_on_out_of_office=True)
    found = ident(thread=thread(pausing))
    assert decide(classified(Label.AUTO_REPLY), found, POLICY).code == DecisionCode.TIMELINE_ONLY
    with_default = replace(POLICY, default_pause_days=5)
    (pause,) = decide(classified(Label.AUTO_REPLY), found, with_default).of(Action.PAUSE)
    assert pause.resume_on == TODAY + dt.timedelta(days=5)


@pytest.mark.parametrize(
    "label",
    [Label.AUTO_REPLY, Label.DELAY, Label.READ_RECEIPT, Label.CHALLENGE, Label.OTHER_AUTO],
)
def test_machine_mail_is_timeline_only_and_never_unenrolls(label: Label) -> None:
    found = ident(sender=sender(), thread=thread(), sender_enrollment=JANE)
    decision = decide(classified(label), found, POLICY)
    assert decision.code == DecisionCode.TIMELINE_ONLY
    assert [e.action for e in decision.effects] == [Action.TIMELINE]


@pytest.mark.parametrize(
    ("flag", "text"),
    [
        (Flag.LEFT_COMPANY, "has left the company"),
        (Flag.MAILBOX_NOT_MONITORED, "uses a mailbox that is no longer monitored"),
    ],
)
def test_left_company_and_unmonitored_mailboxes_are_flagged_for_the_rep(
    flag: Flag, text: str
) -> None:
    found = ident(sender=sender(), thread=thread())
    decision = decide(classified(Label.AUTO_REPLY, flags=frozenset({flag})), found, POLICY)
    assert decision.code == DecisionCode.CONTACT_FLAGGED
    (flagged,) = decision.of(Action.FLAG)
    assert text in flagged.sentence
    assert not decision.of(Action.UNENROLL)


def test_a_ticket_acknowledgement_is_not_a_flag() -> None:
    flags = frozenset({Flag.TICKET_ACKNOWLEDGEMENT})
    decision = decide(classified(Label.OTHER_AUTO, flags=flags), ident(thread=thread()), POLICY)
    assert decision.code == DecisionCode.TIMELINE_ONLY


def test_our_own_message_is_ignored() -> None:
    decision = decide(classified(), ident(own="message_id", thread=thread()), POLICY)
    assert (decision.code, decision.effects) == (DecisionCode.IGNORED_OWN, ())


def test_the_table_is_ordered_and_every_rule_is_named_once() -> None:
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    assert names.index("send_blocked") < names.index("bounced") < names.index("replied")
    assert names.index("replied") < names.index("company_replied")
    assert all(rule.when and rule.action and rule.target for rule in RULES)
