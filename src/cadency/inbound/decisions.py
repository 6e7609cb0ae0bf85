"""Decide: what a classified, identified message does to enrollments (SPEC §3, §8).

A declarative, ordered table of rules (``RULES``), each a rule name, the
condition it checks, the action it asks for and its target — the shape of
Mailman's chains, without the machinery. ``decide`` is pure: it reads the
classification, the identification (``identity.identify``) and a ``Policy``
(today, limits), and returns a ``Decision`` that ``actions.act`` carries out.

Rules are not exclusive: a reply ends the enrollment it answers (``replied``)
*and* the enrollments of the sender's colleagues (``company_replied``). An
enrollment is claimed by the first rule that ends it. Adding a rule: write a
function ``(facts, claimed) -> list[Effect]``, add a ``Rule`` row at the right
place, add its row to the table in ``docs/inbound.md``, and a test in
``tests/inbound/test_decisions.py``.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from django.conf import settings

from cadency.inbound.calendar_replies import Course
from cadency.inbound.classification import Classification, Flag, Label
from cadency.inbound.identity import (
    BounceTarget,
    EnrollmentFacts,
    Identification,
    address_forms,
)
from cadency.inbound.models import DecisionCode
from cadency.sequences.models import UnenrollReason


class Action(StrEnum):
    UNENROLL = "unenroll"  # end the enrollment with ``reason``
    SUPPRESS = "suppress"  # never email ``address`` again (bounced)
    COUNT_SOFT_BOUNCE = "count_soft_bounce"  # remember one soft bounce for ``address``
    ALERT_SEND_BLOCKED = "alert_send_blocked"  # tell the rep: the sending side is blocked
    # pause until ``resume_on`` and resume automatically; with no date, until a person resumes
    PAUSE = "pause"
    FLAG = "flag"  # a fact about the contact the rep should see
    TIMELINE = "timeline"  # record the message on the contact's timeline
    # record a contact's answer to an invitation on its meeting; with ``reason``
    # (meeting_booked) the meetings rules end the enrollment (``calendar_replies``)
    MEETING_ANSWER = "meeting_answer"


# Effects that settle their enrollment: no later rule acts on it.
CLAIMING = (Action.UNENROLL, Action.MEETING_ANSWER)


class BounceKind(StrEnum):
    HARD = "hard"
    SOFT = "soft"
    POLICY = "policy"


@dataclass(frozen=True)
class Effect:
    action: Action
    rule: str
    sentence: str
    enrollment_id: int | None = None
    contact_id: int | None = None
    reason: UnenrollReason | None = None
    address: str = ""
    resume_on: dt.date | None = None
    match: str = ""  # how the message was tied to the target
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    code: DecisionCode
    rules: tuple[str, ...]
    sentence: str
    effects: tuple[Effect, ...]

    @property
    def rule(self) -> str:
        return self.rules[0] if self.rules else ""

    def of(self, action: Action) -> list[Effect]:
        return [e for e in self.effects if e.action == action]


@dataclass(frozen=True)
class Policy:
    today: dt.date
    soft_bounce_limit: int = 3
    soft_bounce_window_days: int = 30  # only soft bounces this recent count (0: all)
    return_horizon_days: int = 60
    default_pause_days: int = 0  # an out-of-office reply naming no date: pause this long (0: no)

    @classmethod
    def from_settings(cls, today: dt.date) -> "Policy":
        return cls(
            today=today,
            soft_bounce_limit=int(getattr(settings, "CADENCY_SOFT_BOUNCE_LIMIT", 3)),
            soft_bounce_window_days=int(getattr(settings, "CADENCY_SOFT_BOUNCE_WINDOW_DAYS", 30)),
            return_horizon_days=int(getattr(settings, "CADENCY_RETURN_DATE_HORIZON_DAYS", 60)),
            default_pause_days=int(getattr(settings, "CADENCY_OUT_OF_OFFICE_DEFAULT_DAYS", 0)),
        )


@dataclass(frozen=True)
class Facts:
    classification: Classification
    identification: Identification
    policy: Policy

    @property
    def label(self) -> Label:
        return self.classification.label

    @property
    def at(self) -> str:
        return f"{self.identification.when.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"

    @property
    def subject(self) -> str:
        return self.identification.subject or "(no subject)"

    @property
    def sender_label(self) -> str:
        ident = self.identification
        if ident.sender is not None:
            return ident.sender.contact_name
        return ident.from_name or ident.from_address or "someone"

    @property
    def person_answered(self) -> bool:
        """A person's message or meeting answer; a decline or tentative answer without a
        note to the enrolling user's invitation is not a conversation (calendar_replies)."""
        answer = self.identification.calendar
        return self.label.is_human and not (answer and answer.course == Course.CONTINUES)

    @property
    def concerned(self) -> EnrollmentFacts | None:
        """The open enrollment a machine message is about: the thread's, else the
        sender's, else (a delivery report) the one that sent to a failed recipient."""
        ident = self.identification
        if ident.thread is not None and ident.thread.enrollment.is_open:
            return ident.thread.enrollment
        if ident.sender_enrollment is not None and ident.sender_enrollment.is_open:
            return ident.sender_enrollment
        for bounce in ident.bounces:  # a delivery report about one of our emails
            if bounce.enrollment is not None and bounce.enrollment.is_open:
                return bounce.enrollment
        return None

    def evidence(self, rule: str, match: str) -> dict[str, Any]:
        """What every automatic unenrollment stores (SPEC §3, last paragraph)."""
        c, ident = self.classification, self.identification
        return {
            "message_id": ident.message_id,
            "from": ident.from_address,
            "rule": rule,
            "classification": {
                "label": c.label.value,
                "reasons": list(c.reasons),
                "classifier_version": c.classifier_version,
            },
            "match": match,
            "thread": ident.thread.how if ident.thread else None,
        }


RuleFn = Callable[[Facts, frozenset[int]], list[Effect]]


@dataclass(frozen=True)
class Rule:
    name: str
    when: str  # the condition, in words (docs, ``cadency inbound rules``)
    action: str
    target: str
    fire: RuleFn


# --- bounces ------------------------------------------------------------------


def bounce_kind(label: Label, target: BounceTarget) -> BounceKind:
    """Enhanced status codes decide: 5.7.x is the sender's problem; 4.x.x and
    5.2.2 (mailbox full) are temporary; any other 5.x.x is permanent; without a
    code, the classifier's label decides."""
    status = target.status
    if status.startswith("5.7"):
        return BounceKind.POLICY
    if status.startswith("4.") or status == "5.2.2" or target.action == "delayed":
        return BounceKind.SOFT
    if status.startswith("5."):
        return BounceKind.HARD
    return BounceKind.HARD if label == Label.BOUNCE_HARD else BounceKind.SOFT


def _bounces(facts: Facts, kind: BounceKind) -> list[BounceTarget]:
    if not facts.label.is_bounce:
        return []
    return [
        b for b in facts.identification.bounces if b.known and bounce_kind(facts.label, b) == kind
    ]


def _what_bounced(b: BounceTarget) -> str:
    if b.step_position is not None:
        return f"Step {b.step_position} (“{b.step_subject}”) to {b.address}"
    return f"A sequence email to {b.address}"


def _status_text(b: BounceTarget) -> str:
    text = " ".join(part for part in (b.status, b.diagnostic.strip()[:200]) if part)
    return text or "no status code"


def _bounce_effects(facts: Facts, b: BounceTarget, sentence: str, rule: str) -> list[Effect]:
    contact = b.enrollment.contact_id if b.enrollment else None
    effects = [
        Effect(
            Action.SUPPRESS,
            rule,
            sentence,
            contact_id=contact,
            enrollment_id=b.enrollment.id if b.enrollment else None,
            address=b.address,
            data={"status": b.status, "diagnostic": b.diagnostic},
        )
    ]
    if b.enrollment is not None and b.enrollment.is_open:
        effects.insert(
            0,
            Effect(
                Action.UNENROLL,
                rule,
                sentence,
                enrollment_id=b.enrollment.id,
                contact_id=contact,
                reason=UnenrollReason.BOUNCED,
                address=b.address,
                match="original_message_id" if b.ours else "failed_recipient",
                data={"status": b.status, "diagnostic": b.diagnostic},
            ),
        )
    return effects


def rule_send_blocked(facts: Facts, claimed: frozenset[int]) -> list[Effect]:
    """A 5.7.x refusal reported later (a DSN) does what the same refusal does at SMTP
    time: alert the rep and pause the enrollment until someone resumes it."""
    effects = []
    for b in _bounces(facts, BounceKind.POLICY):
        mailbox = b.enrollment.mailbox_email if b.enrollment else facts.identification.mailbox_email
        pausing = (
            b.enrollment is not None and b.enrollment.is_open and b.enrollment.id not in claimed
        )
        sentence = (
            f"{mailbox}'s email to {b.address} was refused by policy ({_status_text(b)}) "
            f"on {facts.at}. This concerns the sending mailbox, not the contact: the "
            "address is not suppressed"
            + (", and the enrollment is paused until someone resumes it" if pausing else "")
            + "; check the mailbox's sending reputation."
        )
        alert = Effect(
            Action.ALERT_SEND_BLOCKED,
            "send_blocked",
            sentence,
            enrollment_id=b.enrollment.id if b.enrollment else None,
            contact_id=b.enrollment.contact_id if b.enrollment else None,
            address=b.address,
            data={"status": b.status, "diagnostic": b.diagnostic},
        )
        effects += [alert, replace(alert, action=Action.PAUSE)] if pausing else [alert]
    return effects


def rule_bounced(facts: Facts, claimed: frozenset[int]) -> list[Effect]:
    effects = []
    for b in _bounces(facts, BounceKind.HARD):
        sentence = (
            f"{_what_bounced(b)} bounced permanently ({_status_text(b)}) on {facts.at}. "
            "The address is suppressed for every sequence."
        )
        effects += _bounce_effects(facts, b, sentence, "bounced")
    return effects


def soft_bounce_count(facts: Facts, b: BounceTarget) -> int:
    """This soft bounce and those counted before it within the window
    (``CADENCY_SOFT_BOUNCE_WINDOW_DAYS`` before this one was received)."""
    ident = facts.identification
    now = ident.received_at or ident.when
    days = facts.policy.soft_bounce_window_days
    start = now - dt.timedelta(days=days) if days > 0 else None
    return 1 + sum(
        1 for at in b.earlier_soft_bounces if at <= now and (start is None or at >= start)
    )


def _within(policy: Policy) -> str:
    days = policy.soft_bounce_window_days
    return f" within {days} days" if days > 0 else ""


def rule_soft_bounce(facts: Facts, claimed: frozenset[int]) -> list[Effect]:
    effects = []
    limit = facts.policy.soft_bounce_limit
    within = _within(facts.policy)
    for b in _bounces(facts, BounceKind.SOFT):
        count = soft_bounce_count(facts, b)
        if count >= limit:
            sentence = (
                f"{_what_bounced(b)} bounced temporarily ({_status_text(b)}) on {facts.at}, "
                f"soft bounce {count} of {limit}{within}: it now counts as a bounce. "
                "The address is suppressed for every sequence."
            )
            effects += _bounce_effects(facts, b, sentence, "soft_bounce_limit")
        else:
            effects.append(
                Effect(
                    Action.COUNT_SOFT_BOUNCE,
                    "soft_bounce",
                    f"{_what_bounced(b)} bounced temporarily ({_status_text(b)}) on {facts.at}: "
                    f"soft bounce {count} of {limit}{within}; the enrollment continues.",
                    enrollment_id=b.enrollment.id if b.enrollment else None,
                    contact_id=b.enrollment.contact_id if b.enrollment else None,
                    address=b.address,
                    data={
                        "count": count,
                        "limit": limit,
                        "window_days": facts.policy.soft_bounce_window_days,
                        "status": b.status,
                    },
                )
            )
    return effects


# --- a person answered ------------------------------------------------------------


def rule_meeting_answer(facts: Facts, claimed: frozenset[int]) -> list[Effect]:
    """A contact's answer to an invitation (METHOD:REPLY): see ``calendar_replies``."""
    answer = facts.identification.calendar
    course = answer.course if answer and facts.label == Label.CALENDAR_REPLY else None
    if answer is None or course is None:
        return []
    enrollment = answer.enrollment if course != Course.RECORDED else None
    if enrollment is not None and enrollment.id in claimed:
        return []
    return [
        Effect(
            Action.MEETING_ANSWER,
            f"meeting_{answer.response}",
            answer.sentence(facts.at),
            enrollment_id=enrollment.id if enrollment else None,
            contact_id=answer.contact.contact_id if answer.contact else None,
            reason=UnenrollReason.MEETING_BOOKED if course == Course.BOOKS else None,
            match=answer.match,
            data=answer.data(),
        )
    ]


def _thread_open(facts: Facts, claimed: frozenset[int]) -> EnrollmentFacts | None:
    thread = facts.identification.thread
    if not facts.person_answered or thread is None:
        return None
    if not thread.enrollment.is_open or thread.enrollment.id in claimed:
        return None
    return thread.enrollment


def rule_replied(facts: Facts, claimed: frozenset[int]) -> list[Effect]:
    enrollment = _thread_open(facts, claimed)
    ident = facts.identification
    if enrollment is None or ident.thread is None:
        return []
    forms = address_forms(ident.from_address, enrollment.email)
    if forms is None:
        return []
    match = "+".join(forms) if forms else "enrolled_address"
    thread = ident.thread
    verb = "replied" if facts.label == Label.HUMAN_REPLY else "answered the meeting invitation"
    sentence = (
        f"{enrollment.contact_name} {verb} from {ident.from_address} to step "
        f"{thread.step_position} (“{thread.subject}”) on {facts.at}."
    )
    return [
        Effect(
            Action.UNENROLL,
            "replied",
            sentence,
            enrollment_id=enrollment.id,
            contact_id=enrollment.contact_id,
            reason=UnenrollReason.REPLIED,
            match=match,
        )
    ]


def rule_replied_other_address(facts: Facts, claimed: frozenset[int]) -> list[Effect]:
    enrollment = _thread_open(facts, claimed)
    ident = facts.identification
    if enrollment is None or ident.thread is None:
        return []
    if address_forms(ident.from_address, enrollment.email) is not None:
        return []  # the enrolled address: ``replied``
    sender = ident.sender
    if sender is not None and sender.contact_id == enrollment.contact_id:
        who, match = f"{enrollment.contact_name}", f"same_contact:{sender.how}"
    elif sender is not None:
        who, match = f"{sender.contact_name} (another contact)", f"other_contact:{sender.how}"
    else:
        who, match = facts.sender_label, "unknown_sender"
    thread = ident.thread
    copied = {"to": " (also addressed to them)", "cc": f" with {enrollment.contact_name} in Cc"}
    sentence = (
        f"{who} replied from {ident.from_address or 'an unknown address'} — not the enrolled "
        f"address {enrollment.email} — to step {thread.step_position} (“{thread.subject}”) "
        f"sent to {enrollment.contact_name}{copied.get(thread.contact_copied, '')}, "
        f"on {facts.at}."
    )
    return [
        Effect(
            Action.UNENROLL,
            "replied_other_address",
            sentence,
            enrollment_id=enrollment.id,
            contact_id=enrollment.contact_id,
            reason=UnenrollReason.REPLIED_OTHER_ADDRESS,
            match=match,
            data={"contact_copied": thread.contact_copied} if thread.contact_copied else {},
        )
    ]


def _sender_open(facts: Facts, claimed: frozenset[int]) -> EnrollmentFacts | None:
    """The sender contact's open enrollment, made by the user who received the message."""
    ident = facts.identification
    enrollment = ident.sender_enrollment
    if not facts.person_answered or ident.sender is None or enrollment is None:
        return None
    if not enrollment.is_open or enrollment.id in claimed:
        return None
    if enrollment.enrolled_by_id != ident.mailbox_user_id:
        return None  # the contact wrote to someone else
    return enrollment


def rule_emailed(facts: Facts, claimed: frozenset[int]) -> list[Effect]:
    enrollment = _sender_open(facts, claimed)
    ident = facts.identification
    if enrollment is None:
        return []
    if address_forms(ident.from_address, enrollment.email) != ():
        return []  # another address, or the same one written differently: emailed_from_alias
    sentence = (
        f"{enrollment.contact_name} emailed {ident.mailbox_email} from {ident.from_address} "
        f"outside the sequence (“{facts.subject}”) on {facts.at}."
    )
    return [
        Effect(
            Action.UNENROLL,
            "emailed",
            sentence,
            enrollment_id=enrollment.id,
            contact_id=enrollment.contact_id,
            reason=UnenrollReason.EMAILED,
            match="enrolled_address",
        )
    ]


def rule_emailed_from_alias(facts: Facts, claimed: frozenset[int]) -> list[Effect]:
    enrollment = _sender_open(facts, claimed)
    ident = facts.identification
    if enrollment is None or ident.sender is None:
        return []
    forms = address_forms(ident.from_address, enrollment.email)
    if forms == ():
        return []  # the enrolled address itself: emailed
    if forms:
        how = f"the enrolled address written differently ({', '.join(forms)})"
        match = "+".join(forms)
    else:
        how = f"an additional address of the contact ({ident.sender.how})"
        match = f"alias:{ident.sender.how}" if ident.sender.forms else "alias"
    sentence = (
        f"{enrollment.contact_name} emailed {ident.mailbox_email} from {ident.from_address}, "
        f"{how}; enrolled as {enrollment.email}; outside the sequence (“{facts.subject}”) "
        f"on {facts.at}."
    )
    return [
        Effect(
            Action.UNENROLL,
            "emailed_from_alias",
            sentence,
            enrollment_id=enrollment.id,
            contact_id=enrollment.contact_id,
            reason=UnenrollReason.EMAILED_FROM_ALIAS,
            match=match,
        )
    ]


def rule_company_replied(facts: Facts, claimed: frozenset[int]) -> list[Effect]:
    ident = facts.identification
    key = ident.sender_company
    if not facts.person_answered or key is None or ident.internal:
        return []
    who = f"{facts.sender_label} ({ident.from_address})"
    company = key.label or key.domain or "the same company"
    verb = "replied to" if ident.thread is not None else "emailed"
    effects = []
    for colleague in ident.colleagues:
        if not colleague.is_open or not colleague.same_company_rule or colleague.id in claimed:
            continue
        if ident.sender is not None and colleague.contact_id == ident.sender.contact_id:
            continue
        sentence = (
            f"{who}, of the same company as {colleague.contact_name} ({company}), {verb} "
            f"{ident.mailbox_email} on {facts.at}; «{colleague.sequence_name}» ends every "
            "enrollment of a company when one of its people answers."
        )
        effects.append(
            Effect(
                Action.UNENROLL,
                "company_replied",
                sentence,
                enrollment_id=colleague.id,
                contact_id=colleague.contact_id,
                reason=UnenrollReason.COMPANY_REPLIED,
                match=key.how,
                data={"company": company, "same_company_by": key.how},
            )
        )
    return effects


# --- machine mail -----------------------------------------------------------------


def resume_date(facts: Facts) -> dt.date | None:
    """The return date if it is believable (after today, within the horizon),
    else the configured default pause, else None."""
    policy, found = facts.policy, facts.classification.return_date
    horizon = policy.today + dt.timedelta(days=policy.return_horizon_days)
    if found is not None:
        return found if policy.today < found <= horizon else None
    if policy.default_pause_days > 0:
        return policy.today + dt.timedelta(days=policy.default_pause_days)
    return None


def rule_out_of_office(facts: Facts, claimed: frozenset[int]) -> list[Effect]:
    if facts.label != Label.AUTO_REPLY:
        return []
    enrollment = facts.concerned
    if enrollment is None or enrollment.id in claimed or not enrollment.pause_on_out_of_office:
        return []
    until = resume_date(facts)
    if until is None:
        return []
    named = facts.classification.return_date is not None
    sentence = (
        f"{enrollment.contact_name}'s out-of-office reply "
        + (f"says they are back on {until:%Y-%m-%d}" if named else "names no return date")
        + f"; «{enrollment.sequence_name}» pauses until {until:%Y-%m-%d} and then resumes "
        "automatically."
    )
    return [
        Effect(
            Action.PAUSE,
            "out_of_office",
            sentence,
            enrollment_id=enrollment.id,
            contact_id=enrollment.contact_id,
            resume_on=until,
            data={"return_date_named": named},
        )
    ]


FLAG_TEXT = {
    Flag.LEFT_COMPANY: "has left the company",
    Flag.MAILBOX_NOT_MONITORED: "uses a mailbox that is no longer monitored",
}


def rule_flagged(facts: Facts, claimed: frozenset[int]) -> list[Effect]:
    flags = [f for f in sorted(facts.classification.flags) if f in FLAG_TEXT]
    ident = facts.identification
    enrollment = facts.concerned
    contact = enrollment.contact_id if enrollment else ident.contact_id
    if not flags or contact is None:
        return []
    name = enrollment.contact_name if enrollment else facts.sender_label
    says = " and ".join(FLAG_TEXT[f] for f in flags)
    sentence = (
        f"A reply from {ident.from_address} (“{facts.subject}”) on {facts.at} says {name} "
        f"{says}: check the contact."
    )
    return [
        Effect(
            Action.FLAG,
            "flagged",
            sentence,
            enrollment_id=enrollment.id if enrollment else None,
            contact_id=contact,
            data={"flags": [f.value for f in flags]},
        )
    ]


# --- the table ----------------------------------------------------------------------

RULES: tuple[Rule, ...] = (
    Rule(
        "send_blocked",
        "a bounce whose status is 5.7.x (policy, reputation)",
        "alert the rep (ledger send_blocked) and pause until someone resumes; never suppress",
        "the enrollment that sent",
        rule_send_blocked,
    ),
    Rule(
        "bounced",
        "a permanent bounce (5.x.x, not 5.2.2 or 5.7.x) for an address we sent to",
        "unenroll `bounced` + suppress the address",
        "the enrollment that sent to the failed recipient",
        rule_bounced,
    ),
    Rule(
        "soft_bounce",
        "a temporary bounce (4.x.x, 5.2.2 mailbox full) for an address we sent to",
        "count it; at CADENCY_SOFT_BOUNCE_LIMIT within CADENCY_SOFT_BOUNCE_WINDOW_DAYS: "
        "unenroll `bounced` + suppress",
        "the enrollment that sent to the failed recipient",
        rule_soft_bounce,
    ),
    Rule(
        "meeting_answer",
        "a contact's calendar reply (METHOD:REPLY) to an invitation: accepted, and the "
        "meetings rules count it (the organizer is the enrolling user); or declined or "
        "tentative without a note, to the enrolling user's invitation",
        "accepted: the meeting accepted and unenroll `meeting_booked`; declined or tentative: "
        "recorded, the enrollment continues; always: the answer on the meeting",
        "the answering contact's open enrollment",
        rule_meeting_answer,
    ),
    Rule(
        "replied",
        "a person (or a meeting answer) in the thread of a sequence email, from the enrolled "
        "address (any way of writing it)",
        "unenroll `replied`",
        "the thread's enrollment",
        rule_replied,
    ),
    Rule(
        "replied_other_address",
        "a person in the thread of a sequence email, from another address",
        "unenroll `replied_other_address`",
        "the thread's enrollment",
        rule_replied_other_address,
    ),
    Rule(
        "emailed",
        "a person outside any thread, from exactly the enrolled address, to the enrolling user",
        "unenroll `emailed`",
        "the sender's open enrollment",
        rule_emailed,
    ),
    Rule(
        "emailed_from_alias",
        "the contact, outside any thread, from an additional address or the enrolled address "
        "written differently, to the enrolling user",
        "unenroll `emailed_from_alias`",
        "the sender's open enrollment",
        rule_emailed_from_alias,
    ),
    Rule(
        "company_replied",
        "a person of the same company (associated company, else registered domain; never "
        "free mail) replied or emailed; the enrollment's sequence has unenroll_same_company",
        "unenroll `company_replied`",
        "every other open enrollment of that company sent from the receiving mailbox",
        rule_company_replied,
    ),
    Rule(
        "out_of_office",
        "an auto-reply with a believable return date; the enrollment's settings have "
        "pause_on_out_of_office",
        "pause until the return date, resume automatically",
        "the thread's enrollment, else the sender's",
        rule_out_of_office,
    ),
    Rule(
        "flagged",
        "the classifier flagged left_company or mailbox_not_monitored",
        "ledger contact_flagged for the rep",
        "the contact",
        rule_flagged,
    ),
)

LABEL_TEXT = {
    Label.HUMAN_REPLY: "Reply",
    Label.AUTO_REPLY: "Auto-reply",
    Label.BOUNCE_HARD: "Bounce",
    Label.BOUNCE_SOFT: "Temporary bounce",
    Label.DELAY: "Delivery delay notice",
    Label.READ_RECEIPT: "Read receipt",
    Label.CALENDAR_REPLY: "Meeting answer",
    Label.CHALLENGE: "Challenge-response request",
    Label.OTHER_AUTO: "Automatic message",
}


def decide(
    classification: Classification, identification: Identification, policy: Policy
) -> Decision:
    """Run the table over one message. Pure: reads facts, writes nothing."""
    if identification.own:
        return Decision(DecisionCode.IGNORED_OWN, ("own_message",), "Our own message.", ())
    facts = Facts(classification, identification, policy)
    effects: list[Effect] = []
    fired: list[str] = []
    claimed: set[int] = set()
    for rule in RULES:
        found = rule.fire(facts, frozenset(claimed))
        for effect in found:
            if effect.rule not in fired:
                fired.append(effect.rule)
            if effect.action in CLAIMING and effect.enrollment_id is not None:
                claimed.add(effect.enrollment_id)
        effects += found
    effects = [
        replace(e, data={**facts.evidence(e.rule, e.match), **e.data})
        if e.action in CLAIMING
        else e
        for e in effects
    ]
    code = decision_code(facts, effects)
    if not fired:
        fired.append("timeline" if code == DecisionCode.TIMELINE_ONLY else "no_enrollment")
    summary = summary_sentence(facts, code, effects)
    timeline = timeline_effect(facts, code, fired)
    if timeline is not None:
        effects.append(timeline)
    return Decision(code, tuple(fired), summary, tuple(effects))


def decision_code(facts: Facts, effects: list[Effect]) -> DecisionCode:
    actions = {e.action for e in effects}
    if any(e.action == Action.MEETING_ANSWER and e.reason is not None for e in effects):
        return DecisionCode.UNENROLLED
    for action, code in (
        (Action.UNENROLL, DecisionCode.UNENROLLED),
        (Action.ALERT_SEND_BLOCKED, DecisionCode.SEND_BLOCKED),  # it may pause, too
        (Action.PAUSE, DecisionCode.PAUSED_UNTIL_RETURN),
        (Action.COUNT_SOFT_BOUNCE, DecisionCode.BOUNCE_COUNTED),
        (Action.SUPPRESS, DecisionCode.SUPPRESSED),
        (Action.FLAG, DecisionCode.CONTACT_FLAGGED),
    ):
        if action in actions:
            return code
    if facts.concerned is not None:
        return DecisionCode.TIMELINE_ONLY
    return DecisionCode.NO_ENROLLMENT


def message_head(facts: Facts) -> str:
    """ "Reply from jane@acme.test (“Re: Quick question”) on 2026-11-28 10:02 UTC"."""
    sender = facts.identification.from_address or "an unknown sender"
    return f"{LABEL_TEXT[facts.label]} from {sender} (“{facts.subject}”) on {facts.at}"


def summary_sentence(facts: Facts, code: DecisionCode, effects: list[Effect]) -> str:
    if effects:
        return " ".join(dict.fromkeys(e.sentence for e in effects))
    ident = facts.identification
    head = message_head(facts)
    if code == DecisionCode.TIMELINE_ONLY:
        concerned = facts.concerned
        assert concerned is not None
        return (
            f"{head}: recorded on the timeline; «{concerned.sequence_name}» continues "
            f"for {concerned.contact_name}."
        )
    if ident.contact_id is not None:
        return f"{head}: no open enrollment is concerned; recorded on the timeline."
    return f"{head}: it matches no contact and no open enrollment."


def timeline_effect(facts: Facts, code: DecisionCode, fired: list[str]) -> Effect | None:
    """The message on the contact's timeline, with the classification's reasons."""
    concerned = facts.concerned
    contact = concerned.contact_id if concerned else facts.identification.contact_id
    if contact is None:
        return None
    if code in (DecisionCode.TIMELINE_ONLY, DecisionCode.NO_ENROLLMENT):
        sentence = summary_sentence(facts, code, [])
    else:
        sentence = f"{message_head(facts)}: {code.label.lower()} ({', '.join(fired)})."
    c = facts.classification
    return Effect(
        Action.TIMELINE,
        fired[0],
        sentence,
        enrollment_id=concerned.id if concerned else None,
        contact_id=contact,
        data={
            "label": c.label.value,
            "reasons": list(c.reasons),
            "classifier_version": c.classifier_version,
            "decision": code.value,
        },
    )
