"""The inbound pipeline: store → classify → identify → decide → act, one status per message.

The watcher calls ``store_message`` (raw bytes first, so nothing is ever lost)
and then ``process_message``. A failure at any stage leaves the message
``failed`` with the error and its raw bytes, and changes nothing else;
``reprocess`` (``cadency inbound reprocess``) runs it again later.
"""

import datetime as dt
import importlib
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from cadency.inbound.actions import act
from cadency.inbound.classification import Classification, clean_text
from cadency.inbound.decisions import Action, Decision, Policy, decide
from cadency.inbound.identity import Identification, identify, message_ids, own_message
from cadency.inbound.models import DecisionCode, InboundMessage, InboundStatus
from cadency.mailboxes.models import Mailbox

log = logging.getLogger(__name__)

DONE = (InboundStatus.PROCESSED, InboundStatus.IGNORED_OWN)
PENDING = (InboundStatus.RECEIVED, InboundStatus.FAILED)
ANGLE_ADDRESS_AT_END = re.compile(r"<([^<>\s]+@[^<>\s]+)>\s*$")


# --- store ----------------------------------------------------------------------


@dataclass(frozen=True)
class Headers:
    message_id: str = ""
    in_reply_to: str = ""
    references: str = ""
    from_address: str = ""
    from_name: str = ""
    subject: str = ""
    sent_at: dt.datetime | None = None


def header_text(headers: Message, name: str) -> str:
    value = headers.get(name)
    if value is None:
        return ""
    raw = str(value)
    try:
        return clean_text(str(make_header(decode_header(raw))))
    except (ValueError, LookupError, UnicodeError, AssertionError, MessageError):
        return clean_text(raw)


def extract_headers(raw: bytes) -> Headers:
    """The header fields lists and matching need, read cheaply; garbage gives blanks."""
    try:
        return _read_headers(BytesHeaderParser(policy=compat32).parsebytes(raw))
    except Exception:  # a parser bug must not keep the message from being stored
        log.warning("unreadable headers", exc_info=True)
        return Headers()


def _read_headers(headers: Message) -> Headers:
    raw_id = header_text(headers, "Message-ID")
    ids = message_ids(raw_id)
    name, address = "", ""
    from_value = header_text(headers, "From")
    if from_value:
        found = [pair for pair in getaddresses([from_value]) if "@" in pair[1]]
        if found:
            name, address = found[0]
        elif angle := ANGLE_ADDRESS_AT_END.search(from_value):  # a mangled display name
            name, address = from_value[: angle.start()].strip(), angle.group(1)
    sent_at: dt.datetime | None = None
    date = header_text(headers, "Date")
    if date:
        try:
            sent_at = parsedate_to_datetime(date)
        except (TypeError, ValueError, IndexError, OverflowError):
            sent_at = None
        if sent_at is not None and timezone.is_naive(sent_at):
            sent_at = sent_at.replace(tzinfo=dt.UTC)
    return Headers(
        message_id=(ids[0] if ids else raw_id)[:500],
        in_reply_to=" ".join(message_ids(header_text(headers, "In-Reply-To"))),
        references=" ".join(message_ids(header_text(headers, "References"))),
        from_address=clean_text(address, 320),
        from_name=clean_text(name, 200),
        subject=header_text(headers, "Subject")[:998],
        sent_at=sent_at,
    )


def store_message(
    *, mailbox: Mailbox, folder: str, uidvalidity: int, uid: int, raw: bytes
) -> tuple[InboundMessage, bool]:
    """Keep a message's raw bytes, with its place in the folder; (message, created).

    A message already stored — the same folder position, or the same Message-ID in
    this mailbox (after UIDVALIDITY changed, or moved to another watched folder),
    or the same bytes when it has no Message-ID — is returned as it is, so it is
    never stored or processed twice.
    """
    position = {"mailbox": mailbox, "folder": folder, "uidvalidity": uidvalidity, "uid": uid}
    existing = InboundMessage.objects.filter(**position).first()
    if existing is not None:
        return existing, False
    headers = extract_headers(raw)
    stored = InboundMessage.objects.filter(mailbox=mailbox)
    if headers.message_id:
        same = stored.filter(message_id=headers.message_id).first()
    else:  # no Message-ID: the same bytes, moved to another folder or renumbered
        same = stored.filter(message_id="", raw=raw).first()
    if same is not None:
        return same, False
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(
                **position,
                raw=raw,
                message_id=headers.message_id,
                in_reply_to=headers.in_reply_to,
                references=headers.references,
                from_address=headers.from_address,
                from_name=headers.from_name,
                subject=headers.subject,
                sent_at=headers.sent_at,
            )
    except IntegrityError:  # another watcher stored it a moment ago
        return InboundMessage.objects.get(**position), False
    return message, True


# --- classify -------------------------------------------------------------------


def classifier() -> Callable[[bytes], Classification]:
    """The classifier, imported when first needed (``cadency.inbound.classifier``)."""
    module: Any = importlib.import_module("cadency.inbound.classifier")
    classify: Callable[[bytes], Classification] = module.classify_message
    return classify


# --- the pipeline -----------------------------------------------------------------


def fail(message: InboundMessage, stage: str, exc: BaseException) -> InboundMessage:
    """The message stays with its raw bytes, marked failed with what went wrong."""
    log.warning("inbound message %s failed at %s", message.pk, stage, exc_info=exc)
    message.status = InboundStatus.FAILED
    message.error = clean_text(f"{stage}: {type(exc).__name__}: {exc}", 4000)
    message.processed_at = timezone.now()
    InboundMessage.objects.filter(pk=message.pk).update(
        status=message.status, error=message.error, processed_at=message.processed_at
    )
    return message


def process_message(
    message: InboundMessage, *, force: bool = False, now: dt.datetime | None = None
) -> InboundMessage:
    """Run the stages after store. Idempotent: a processed message is left alone
    unless ``force``; a failure leaves it ``failed`` and changes nothing else."""
    if message.status in DONE and not force:
        return message
    try:
        # The one identification needing no classification, cheapest first:
        # our own outbound copies are never classified, never taken for replies.
        own = own_message(message)
    except Exception as exc:
        return fail(message, "identify", exc)
    if own:
        return process_classified(message, None, force=force, now=now, own=own)
    try:
        classification = classifier()(bytes(message.raw))
    except Exception as exc:  # UnparseableMessage, or a classifier bug: reprocess later
        return fail(message, "classify", exc)
    return process_classified(message, classification, force=force, now=now)


def process_classified(
    message: InboundMessage,
    classification: Classification | None,
    *,
    force: bool = False,
    now: dt.datetime | None = None,
    own: str = "",
) -> InboundMessage:
    """The stages after classify — identify, decide, act — in one transaction
    holding the message's row lock, so two processes never act on it twice."""
    now = now or timezone.now()
    stage = "identify"
    try:
        with transaction.atomic():
            locked = (
                InboundMessage.objects.select_for_update()
                .select_related("mailbox")
                .get(pk=message.pk)
            )
            if locked.status in DONE and not force:
                return locked  # another process finished it meanwhile
            if classification is None:
                finish(locked, None, None, [], now, status=InboundStatus.IGNORED_OWN, own=own)
                return locked
            first_time = locked.status not in DONE
            history = None if first_time else previous_decisions(locked, "reprocessed", now)
            locked.set_classification(classification)
            identification = identify(locked, classification)
            if identification.own:
                finish(
                    locked,
                    None,
                    None,
                    [],
                    now,
                    status=InboundStatus.IGNORED_OWN,
                    own=identification.own,
                )
                return locked
            stage = "decide"
            decision = decide(classification, identification, Policy.from_settings(now.date()))
            stage = "act"
            # Acting again (force) is harmless, but the timeline gets the message once.
            done = act(locked, decision, timeline=first_time)
            finish(
                locked, identification, decision, [d.as_dict() for d in done], now, history=history
            )
        return locked
    except Exception as exc:
        return fail(message, stage, exc)


def previous_decisions(
    message: InboundMessage, why: str, now: dt.datetime, **extra: str
) -> list[dict[str, Any]]:
    """The message's earlier decisions, with the one being replaced appended."""
    return [
        *message.decision_evidence.get("history", []),
        {
            "why": why,
            "at": now.isoformat(),
            "label": message.label,
            "decision": message.decision,
            "rules": message.decision_evidence.get("rules", []),
            **extra,
        },
    ]


def finish(
    message: InboundMessage,
    identification: Identification | None,
    decision: Decision | None,
    done: list[dict[str, Any]],
    now: dt.datetime,
    *,
    status: InboundStatus = InboundStatus.PROCESSED,
    own: str = "",
    history: list[dict[str, Any]] | None = None,
) -> None:
    """Write the outcome on the message row."""
    message.status = status
    message.error = ""
    message.processed_at = now
    if decision is None:
        message.decision = DecisionCode.IGNORED_OWN
        message.decision_evidence = {"own": own}
    else:
        message.decision = decision.code
        message.decision_evidence = {
            "rules": list(decision.rules),
            "sentence": decision.sentence,
            "effects": done,
            "match": match_evidence(identification),
            **({"history": history} if history else {}),
        }
        if decision.code != DecisionCode.BOUNCE_COUNTED:
            message.bounce_address = ""
    if identification is not None:
        message.contact_id = identification.contact_id or message.contact_id
        message.enrollment_id = primary_enrollment(identification, decision) or (
            message.enrollment_id
        )
    message.save()


def primary_enrollment(identification: Identification, decision: Decision | None) -> int | None:
    if decision is not None:
        for effect in decision.effects:
            if effect.action != Action.TIMELINE and effect.enrollment_id is not None:
                return effect.enrollment_id
    if identification.thread is not None:
        return identification.thread.enrollment.id
    if identification.sender_enrollment is not None:
        return identification.sender_enrollment.id
    for bounce in identification.bounces:
        if bounce.enrollment is not None:
            return bounce.enrollment.id
    return None


def match_evidence(identification: Identification | None) -> dict[str, Any]:
    """How the message was tied to people and enrollments, for the record."""
    if identification is None:
        return {}
    found: dict[str, Any] = {}
    if identification.sender is not None:
        found["sender"] = {
            "contact": identification.sender.contact_id,
            "address": identification.sender.address,
            "how": identification.sender.how,
        }
    if identification.thread is not None:
        found["thread"] = {
            "message_id": identification.thread.sent_message_id,
            "enrollment": identification.thread.enrollment.id,
            "step": identification.thread.step_position,
            "how": identification.thread.how,
        }
    if identification.sender_company is not None:
        key = identification.sender_company
        found["company"] = {"how": key.how, "company": key.company_id, "domain": key.domain}
    if identification.bounces:
        found["bounces"] = [
            {
                "address": b.address,
                "status": b.status,
                "enrollment": b.enrollment.id if b.enrollment else None,
                "ours": b.ours,
            }
            for b in identification.bounces
        ]
    return found


# --- reprocessing ---------------------------------------------------------------


@dataclass
class ReprocessReport:
    processed: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def as_dict(self) -> dict[str, int]:
        return {"processed": self.processed, "failed": self.failed, "skipped": self.skipped}


def reprocess(
    messages: Iterable[InboundMessage], *, force: bool = False, now: dt.datetime | None = None
) -> ReprocessReport:
    """Run the pipeline again over ``messages``. Without ``force`` only those
    not done (``received``, ``failed``) are run; with it, all of them (acting
    again is harmless: every action is idempotent)."""
    report = ReprocessReport()
    for message in messages:
        if message.status in DONE and not force:
            report.skipped += 1
            continue
        result = process_message(message, force=force, now=now)
        if result.status == InboundStatus.FAILED:
            report.failed += 1
        else:
            report.processed += 1
    return report


def pending_messages(mailbox: Mailbox | None = None) -> QuerySet[InboundMessage]:
    """Messages not done yet (failed, or stored and never processed), oldest first."""
    query = InboundMessage.objects.select_related("mailbox").filter(status__in=PENDING)
    if mailbox is not None:
        query = query.filter(mailbox=mailbox)
    return query.order_by("pk")
