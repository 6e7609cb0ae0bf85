"""Sort one inbound message into a Label, with the evidence.

An ordered chain of tiny rules, cheapest and most certain first; the first rule that
concludes wins:

1. ``reports``: MDN → read_receipt; ARF feedback report → other_auto
2. delivery-status report (RFC 3464): Action/Status per recipient → bounce_hard,
   bounce_soft, delay or (positive DSN) other_auto; a screening service's report that
   asks the sender to verify → challenge
3. ``calendar``: text/calendar METHOD:REPLY/COUNTER → calendar_reply
4. ``bounces``: non-standard bounces (MTA sender, X-Failed-Recipients, MTA phrasing)
5. challenge-response (Boxbe, Bluebottle, "verify you are a human")
6. auto-reply: ``headers`` (Auto-Submitted, X-Auto*, Exchange markers, null Return-Path)
   with ``text`` (subject prefixes and phrases in many languages); ``dates`` for the
   return date
7. other machine mail: list and no-reply senders, machine headers without reply wording
8. otherwise a person: human_reply
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from cadency.inbound.classification import Classification, Label, storable
from cadency.inbound.classifier import bounces, calendar, headers, reports, text
from cadency.inbound.classifier.dates import find_return_date
from cadency.inbound.classifier.parsing import Parsed, UnparseableMessage, parse
from cadency.inbound.classifier.verdict import Verdict

CLASSIFIER_VERSION = "rules-1"

CHALLENGE_TEXT = re.compile(
    r"(?:has been|was) waitlisted|add yourself to (?:my|the) [\w ]{0,30}(?:guest|allowed|approved"
    r"|safe|white) ?list|(?:added|add you) to (?:my|the|the recipient's|his|her) (?:\w+ )?"
    r"(?:allowed|approved|safe|white|guest) ?(?:list|senders)|verify (?:that )?you are (?:a )?"
    r"(?:human|real person|not a robot)|sender verification|verify your (?:e-?mail|address|message)"
    r" (?:address )?(?:to|so|before)|confirm (?:that )?you (?:are|sent) |"
    r"(?:click|visit) (?:on )?(?:the|this) (?:following )?link (?:below )?to (?:be added|verify|"
    r"confirm|have your|release|deliver)|awaiting (?:your )?(?:verification|confirmation)|"
    r"challenge[- ]response|spam (?:protection|filter) (?:requires|asks)",
    re.I,
)
REPORT_SUBJECT = re.compile(
    r"^\s*(?:complaint about message from|abuse report|email feedback report|spam report|"
    r"dmarc (?:aggregate|forensic|failure) report|report domain:)",
    re.I,
)
FAX_SENDER = re.compile(r"(?:^#?fax#|@(?:[\w-]+\.)*(?:e?fax)(?:\.|$)|@fax[\w-]*\.)", re.I)
UNSUBSCRIBE_REQUEST = re.compile(r"^\s*(?:unsubscribe|remove me|abmelden)\b", re.I)

Rule = Callable[[Parsed], Verdict | None]


def _delivery_status(parsed: Parsed) -> Verdict | None:
    found = reports.delivery_status_reports(parsed)
    if not found:
        return None
    merged = reports.DeliveryStatus()
    for report in found:
        merged.recipients.extend(report.recipients)
    permanent = any(
        r.status.startswith("5.") or (r.action == "failed" and not r.status.startswith("4."))
        for r in merged.recipients
    )
    human_text = text.one_line(text.fresh_of(parsed))
    if not permanent:
        challenge = CHALLENGE_TEXT.search(human_text)
        if challenge:
            return Verdict(
                Label.CHALLENGE,
                0.9,
                [
                    "a delivery-status report without a permanent failure",
                    f"text: '{challenge.group(0)}' (asks the sender to verify)",
                ],
            )
        findings = text.scan(human_text, families=("ticket",))
        if "ticket" in findings.families:
            return Verdict(
                Label.AUTO_REPLY,
                0.85,
                ["a delivery-status report without a permanent failure", *findings.reasons],
                flags=findings.flags,
            )
    return reports.classify_delivery_status(parsed, merged)


def _challenge(parsed: Parsed) -> Verdict | None:
    found = headers.scan(parsed)
    fresh = text.one_line(text.fresh_of(parsed))
    match = CHALLENGE_TEXT.search(fresh) or CHALLENGE_TEXT.search(parsed.subject)
    if found.challenge and match:
        return Verdict(Label.CHALLENGE, 0.97, [*found.challenge, f"text: '{match.group(0)}'"])
    if match and not text.HUMAN_REQUEST.search(fresh[:3000]):
        return Verdict(
            Label.CHALLENGE, 0.85, [f"text: '{match.group(0)}' (asks the sender to verify)"]
        )
    return None


def _auto_reply(parsed: Parsed) -> Verdict | None:
    found = headers.scan(parsed)
    fresh = text.fresh_of(parsed)
    subject_hit = text.auto_subject(parsed.subject)
    ticket_hit = text.ticket_subject(parsed.subject)
    findings = text.findings_of(parsed)
    reasons: list[str] = []
    if found.auto_replied:
        unsubscribe = UNSUBSCRIBE_REQUEST.match(fresh) or UNSUBSCRIBE_REQUEST.match(parsed.subject)
        if unsubscribe and not findings.score:
            return Verdict(
                Label.OTHER_AUTO,
                0.9,
                [*found.auto_replied, "an automatic unsubscribe request"],
            )
        reasons = [*found.auto_replied, *findings.reasons]
        if subject_hit:
            reasons.append(f"subject '{subject_hit}'")
        return Verdict(Label.AUTO_REPLY, 0.97, reasons, flags=findings.flags)
    if found.explicit_human:
        return None
    if subject_hit:
        reasons = [f"subject '{subject_hit}'", *found.machine, *found.bulk, *findings.reasons]
        return Verdict(Label.AUTO_REPLY, 0.9, reasons, flags=findings.flags)
    if found.machine:
        if findings.score or ticket_hit:
            reasons = [*found.machine, *findings.reasons]
            if ticket_hit:
                reasons.append(f"subject '{ticket_hit}'")
            return Verdict(Label.AUTO_REPLY, 0.92, reasons, flags=findings.flags)
        return None  # machine mail, but not a reply: other_auto decides
    if ticket_hit and findings.score >= 2:
        return Verdict(
            Label.AUTO_REPLY,
            0.8,
            [f"subject '{ticket_hit}'", *findings.reasons],
            flags=findings.flags,
        )
    if found.bulk and findings.strong and not findings.human_request:
        return Verdict(
            Label.AUTO_REPLY, 0.8, [*found.bulk, *findings.reasons], flags=findings.flags
        )
    threshold = 6 if findings.human_request else 4
    specific = findings.families & {"auto", "left", "unmonitored"}
    if specific and not findings.human_request:
        threshold = 3  # "this mailbox is no longer monitored" needs nothing more
    if findings.strong and findings.score >= threshold:
        return Verdict(Label.AUTO_REPLY, 0.75, findings.reasons, flags=findings.flags)
    return None


def _other_auto(parsed: Parsed) -> Verdict | None:
    found = headers.scan(parsed)
    if found.explicit_human:
        return None
    if found.machine:
        return Verdict(Label.OTHER_AUTO, 0.85, [*found.machine, "no reply wording: a notification"])
    if found.listmail:
        return Verdict(Label.OTHER_AUTO, 0.8, [*found.listmail, *found.bulk])
    report = REPORT_SUBJECT.match(parsed.subject)
    if report:
        return Verdict(Label.OTHER_AUTO, 0.8, [f"subject '{report.group(0)}': an abuse report"])
    if FAX_SENDER.search(parsed.from_address):
        return Verdict(
            Label.OTHER_AUTO, 0.8, [f"sender {parsed.from_address} is a fax-to-mail gateway"]
        )
    return None


CHAIN: list[tuple[str, Rule]] = [
    ("report", reports.classify),
    ("delivery-status", _delivery_status),
    ("calendar", calendar.classify),
    ("bounce", bounces.classify),
    ("challenge", _challenge),
    ("auto-reply", _auto_reply),
    ("other-auto", _other_auto),
]


def _human(parsed: Parsed) -> Verdict:
    reasons = ["no machine signal: a person wrote it"]
    found = headers.scan(parsed)
    if found.explicit_human:
        reasons.append(found.explicit_human)
    if found.bulk:
        reasons.append(f"{found.bulk[0]} alone does not make it machine mail")
    return Verdict(Label.HUMAN_REPLY, 0.8, reasons)


def classify_message(raw: bytes, *, now: dt.datetime | None = None) -> Classification:
    """Classify one raw RFC 5322 message. Raises UnparseableMessage only for bytes with
    nothing usable in them (no header, no text)."""
    parsed = parse(raw)
    verdict: Verdict | None = None
    for _name, rule in CHAIN:
        verdict = rule(parsed)
        if verdict is not None:
            break
    if verdict is None:
        verdict = _human(parsed)
    if verdict.label == Label.AUTO_REPLY:
        _add_return_date(parsed, verdict, now)
    return storable(
        Classification(
            label=verdict.label,
            confidence=verdict.confidence,
            reasons=verdict.reasons,
            failed_recipients=verdict.failed_recipients,
            return_date=verdict.return_date,
            flags=frozenset(verdict.flags),
            original_message_id=verdict.original_message_id,
            calendar_partstat=verdict.calendar_partstat,
            classifier_version=CLASSIFIER_VERSION,
        )
    )


def _add_return_date(parsed: Parsed, verdict: Verdict, now: dt.datetime | None) -> None:
    base = parsed.date or now or dt.datetime.now(dt.UTC)
    try:
        horizon = int(getattr(settings, "CADENCY_RETURN_DATE_HORIZON_DAYS", 60))
    except ImproperlyConfigured:  # used outside Django (a script, the benchmark)
        horizon = 60
    fresh = text.fresh_of(parsed)
    languages = text.findings_of(parsed).languages
    try:
        date, phrase = find_return_date(
            f"{parsed.subject}\n\n{fresh}", base, horizon_days=horizon, languages=languages
        )
    except (ValueError, OverflowError):  # a date no calendar holds: no return date
        return
    if date is not None:
        verdict.return_date = date
        verdict.reasons.append(f"return date {date.isoformat()} from '{phrase.strip()[:60]}'")


__all__ = ["CLASSIFIER_VERSION", "UnparseableMessage", "classify_message"]
