"""What the classifier says about one message: the contract between the stages.

The labels are those of the shared corpus (``../shared/corpus/README.md``).
"""

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


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
