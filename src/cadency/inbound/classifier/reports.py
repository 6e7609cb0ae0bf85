"""multipart/report (RFC 6522): delivery-status (RFC 3464), disposition-notification
(RFC 8098 MDN) and feedback-report (RFC 5965 ARF).

The structure decides, not the wording: a delivery-status report says per recipient
what happened (Action) and why (Status, Diagnostic-Code).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import quopri
import re
from dataclasses import dataclass, field
from email.message import Message

from cadency.inbound.classification import FailedRecipient, Label
from cadency.inbound.classifier.parsing import (
    Parsed,
    decode_bytes,
    param,
    part_text,
    payload_of,
    raw_header,
)
from cadency.inbound.classifier.verdict import Verdict

STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$")
_MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")

DSN_TYPES = (
    "message/delivery-status",
    "message/global-delivery-status",
    "text/delivery-status",
)
MDN_TYPES = ("message/disposition-notification", "message/global-disposition-notification")
ARF_TYPES = ("message/feedback-report",)

# Mailbox full / over quota: the address exists, the sender may try again later.
MAILBOX_FULL = re.compile(
    r"mailbox (?:is )?full|mailbox_full|over ?quota|quota (?:exceeded|exceed)|"
    r"exceeded (?:the |its |his |her )?"
    r"(?:storage|quota|disk|size)|(?:disk|storage) (?:space|quota)(?: limit)?|mailfolder is full|"
    r"account is full|mailbox size limit|insufficient (?:system )?storage|out of storage|"
    r"inbox is full|too many messages|mailbox exceeded|messages in (?:the )?(?:recipient's )?"
    r"mailbox exceeded|メールボックスが一杯|zu ?viele mails|postfach (?:ist )?voll|"
    r"boîte (?:aux lettres )?pleine",
    re.I,
)


HARD_HINT = re.compile(r"unknown|no such|not exist|invalid|not found|disabled", re.I)


@dataclass
class RecipientReport:
    final: str = ""
    original: str = ""
    action: str = ""
    status: str = ""
    diagnostic: str = ""

    @property
    def address(self) -> str:
        return self.original or self.final


@dataclass
class DeliveryStatus:
    per_message: dict[str, str] = field(default_factory=dict)
    recipients: list[RecipientReport] = field(default_factory=list)


def parse_fields(text: str) -> list[dict[str, str]]:
    """RFC 822-style field blocks separated by blank lines, names lowercased."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ""
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
                current, last = {}, ""
            continue
        if line[0] in " \t" and last:
            current[last] += " " + line.strip()
            continue
        match = _FIELD.match(line)
        if match:
            last = match.group(1).lower()
            current.setdefault(last, match.group(2).strip())
    if current:
        blocks.append(current)
    return blocks


def _report_text(part: Message) -> str:
    payload = payload_of(part)
    if isinstance(payload, list):
        text = "\n\n".join(
            "\n".join(f"{name}: {value}" for name, value in block.raw_items())
            for block in payload
            if isinstance(block, Message)
        )
    elif isinstance(payload, str):
        text = payload
    else:
        return ""
    encoding = raw_header(part, "content-transfer-encoding").strip().lower()
    if encoding == "quoted-printable":
        text = decode_bytes(quopri.decodestring(text.encode("utf-8", "surrogateescape")), "utf-8")
    elif encoding == "base64":
        with contextlib.suppress(binascii.Error, ValueError):
            text = decode_bytes(base64.b64decode(text.encode("ascii", "ignore")), "utf-8")
    return text


def _address(value: str) -> str:
    """'rfc822; <a@b>' → 'a@b'."""
    if ";" in value:
        value = value.split(";", 1)[1]
    return value.strip().strip("<>").strip().lower()


def parse_delivery_status(part: Message) -> DeliveryStatus:
    return delivery_status_from_text(_report_text(part))


def delivery_status_from_text(text: str) -> DeliveryStatus:
    blocks = parse_fields(text)
    report = DeliveryStatus()
    keys: tuple[str, ...] = ("final-recipient", "original-recipient")
    if not any(k in block for block in blocks for k in keys):
        keys = ("final-recipient", "original-recipient", "action", "status")
    for block in blocks:
        if not any(k in block for k in keys):
            report.per_message.update(block)
            continue
        status_match = STATUS.search(block.get("status", ""))
        report.recipients.append(
            RecipientReport(
                final=_address(block.get("final-recipient", "")),
                original=_address(block.get("original-recipient", "")),
                action=block.get("action", "").strip().lower().split()[0]
                if block.get("action", "").strip()
                else "",
                status=".".join(status_match.groups()) if status_match else "",
                diagnostic=block.get("diagnostic-code", "")[:500],
            )
        )
    return report


def original_message_id(parsed: Parsed) -> str | None:
    """The Message-ID of the message a report is about: attached message or its headers."""
    for message in parsed.attached_messages:
        value = raw_header(message, "message-id")
        if value:
            match = _MESSAGE_ID.search(str(value))
            if match:
                return match.group(0)
    for part in parsed.parts_of_type("text/rfc822-headers", "message/rfc822-headers"):
        for line in part_text(part).splitlines():
            if line.lower().startswith("message-id:"):
                match = _MESSAGE_ID.search(line)
                if match:
                    return match.group(0)
    return None


def _refine_status(recipient: RecipientReport) -> str:
    """A generic x.0.0 status refined by the enhanced code in the diagnostic, if any."""
    status = recipient.status
    found = STATUS.search(recipient.diagnostic)
    if found and (not status or status.endswith(".0.0")) and found.group(1) == (status or "5")[0]:
        return ".".join(found.groups())
    return status


def is_soft(status: str, diagnostic: str) -> bool:
    return status.startswith("4.") or status == "5.2.2" or bool(MAILBOX_FULL.search(diagnostic))


def classify_delivery_status(parsed: Parsed, report: DeliveryStatus) -> Verdict | None:
    recipients = report.recipients
    full = MAILBOX_FULL.search(parsed.body_text[:5000])
    if not recipients:
        return None
    failed: list[FailedRecipient] = []
    delayed: list[FailedRecipient] = []
    positive: list[RecipientReport] = []
    reasons: list[str] = []
    for recipient in recipients:
        status = _refine_status(recipient)
        action = recipient.action or (
            "failed" if status.startswith("5.") else "delayed" if status.startswith("4.") else ""
        )
        reasons.append(
            f"report delivery-status: Action {action or '(none)'}, Status {status or '(none)'}"
            + (
                f", Final-Recipient {recipient.final}"
                if recipient.original and recipient.final != recipient.original
                else ""
            )
        )
        entry = FailedRecipient(
            address=recipient.address,
            status=status,
            action=action,
            diagnostic=recipient.diagnostic,
        )
        if action == "failed":
            failed.append(entry)
        elif action == "delayed":
            delayed.append(entry)
        elif action in ("delivered", "relayed", "expanded", "deliverable") or status.startswith(
            "2."
        ):
            positive.append(recipient)
    message_id = original_message_id(parsed)
    if failed:
        hard = [
            f
            for f in failed
            if not is_soft(f.status, f.diagnostic)
            and not (full and f.status in ("", "5.0.0") and not HARD_HINT.search(f.diagnostic))
        ]
        label = Label.BOUNCE_HARD if hard else Label.BOUNCE_SOFT
        if not hard:
            reasons.append("mailbox full or temporary failure: the address exists")
        return Verdict(label, 0.98, reasons, failed + delayed, original_message_id=message_id)
    if delayed:
        return Verdict(Label.DELAY, 0.97, reasons, delayed, original_message_id=message_id)
    if positive:
        reasons.append("a positive delivery report, not a failure")
        return Verdict(Label.OTHER_AUTO, 0.97, reasons, original_message_id=message_id)
    return None


def delivery_status_reports(parsed: Parsed) -> list[DeliveryStatus]:
    return [parse_delivery_status(part) for part in parsed.parts_of_type(*DSN_TYPES)]


def classify(parsed: Parsed) -> Verdict | None:
    """The report rule: an MDN, an ARF report, or a delivery-status report."""
    mdn = parsed.parts_of_type(*MDN_TYPES)
    report_type = ""
    if parsed.content_type == "multipart/report":
        report_type = param(parsed.message, "content-type", "report-type").lower()
    if mdn or report_type == "disposition-notification":
        disposition = ""
        for part in mdn:
            for block in parse_fields(_report_text(part)):
                disposition = block.get("disposition", disposition)
        reason = "report disposition-notification (MDN)"
        if disposition:
            reason += f": Disposition {disposition}"
        return Verdict(
            Label.READ_RECEIPT, 0.98, [reason], original_message_id=_mdn_message_id(parsed, mdn)
        )
    if parsed.parts_of_type(*ARF_TYPES) or report_type == "feedback-report":
        return Verdict(
            Label.OTHER_AUTO,
            0.98,
            ["report feedback-report (ARF): an abuse or authentication report"],
            original_message_id=original_message_id(parsed),
        )
    return None


def _mdn_message_id(parsed: Parsed, parts: list[Message]) -> str | None:
    for part in parts:
        for block in parse_fields(_report_text(part)):
            match = _MESSAGE_ID.search(block.get("original-message-id", ""))
            if match:
                return match.group(0)
    return original_message_id(parsed)
