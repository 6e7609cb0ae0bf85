"""What the classifier says about one message: the contract between the stages.

The labels are those of the shared corpus (``../shared/corpus/README.md``).
"""

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Label(StrEnum):
    HUMAN_REPLY = "human_reply"
    AUTO_REPLY = "auto_reply"
    BOUNCE_HARD = "bounce_hard"
    BOUNCE_SOFT = "bounce_soft"
    DELAY = "delay"
    READ_RECEIPT = "read_receipt"
    CALENDAR_REPLY = "calendar_reply"
    CHALLENGE = "challenge"
    OTHER_AUTO = "other_auto"

    @property
    def is_human(self) -> bool:
        """Only a person's message (or their meeting answer) can end an enrollment as a reply."""
        return self in (Label.HUMAN_REPLY, Label.CALENDAR_REPLY)

    @property
    def is_bounce(self) -> bool:
        return self in (Label.BOUNCE_HARD, Label.BOUNCE_SOFT)


class Flag(StrEnum):
    """Extra facts a rep should see, whatever the label."""

    LEFT_COMPANY = "left_company"
    MAILBOX_NOT_MONITORED = "mailbox_not_monitored"
    TICKET_ACKNOWLEDGEMENT = "ticket_acknowledgement"


@dataclass(frozen=True)
class FailedRecipient:
    address: str
    status: str  # enhanced status code, e.g. "5.1.1"; "" when the report gives none
    action: str  # RFC 3464 Action: failed, delayed, ...; "failed" for non-standard bounces
    diagnostic: str = ""


@dataclass(frozen=True)
class Classification:
    label: Label
    confidence: float  # 0..1
    reasons: list[str]  # the evidence that decided, in words: header, report field, phrase
    failed_recipients: list[FailedRecipient] = field(default_factory=list)
    return_date: dt.date | None = None  # auto-replies only, bounded (see the classifier)
    flags: frozenset[Flag] = frozenset()
    # The Message-ID of our message that a report (DSN, MDN) is about, when it names it.
    original_message_id: str | None = None
    # For calendar replies: the attendee's answer (ACCEPTED, DECLINED, TENTATIVE).
    calendar_partstat: str | None = None
    classifier_version: str = ""


def clean_text(value: str, limit: int | None = None) -> str:
    """Printable text a database accepts: undecodable bytes replaced, control
    characters (NUL included) dropped, folding whitespace collapsed."""
    text = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    text = " ".join(CONTROL.sub("", text).split())
    return text[:limit] if limit else text


def storable(classification: Classification) -> Classification:
    """The same classification with every text it quotes from the message made
    storable: a bounce's diagnostic or an auto-reply's phrase may carry raw bytes
    or a NUL, which neither database accepts."""

    def optional(value: str | None) -> str | None:
        return None if value is None else clean_text(value)

    return replace(
        classification,
        reasons=[clean_text(reason) for reason in classification.reasons],
        failed_recipients=[
            FailedRecipient(
                address=clean_text(r.address),
                status=clean_text(r.status),
                action=clean_text(r.action),
                diagnostic=clean_text(r.diagnostic),
            )
            for r in classification.failed_recipients
        ],
        original_message_id=optional(classification.original_message_id),
        calendar_partstat=optional(classification.calendar_partstat),
    )
