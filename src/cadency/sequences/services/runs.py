"""What running a step can lead to, and what a claimed send carries."""

from dataclasses import dataclass
from enum import StrEnum

from cadency.mailboxes.models import Mailbox


class RunOutcome(StrEnum):
    SENT = "sent"
    TASK_CREATED = "task_created"
    POSTPONED = "postponed"
    RETRY_LATER = "retry_later"
    BOUNCED = "bounced"
    BLOCKED = "blocked"
    SUPPRESSED = "suppressed"
    HELD = "held"  # the inbox could not be read before sending: try again shortly
    WITHHELD = "withheld"  # the inbox showed the enrollment had ended: not sent
    NOT_DUE = "not_due"
    NOT_SCHEDULED = "not_scheduled"
    NOT_ACTIVE = "not_active"
    MISSING = "missing"
    COPY_SAVED = "copy_saved"
    COPY_NOT_NEEDED = "copy_not_needed"


@dataclass(frozen=True)
class ClaimedSend:
    """A run marked ``sending`` whose exact bytes are stored and ready for SMTP."""

    run_id: int
    enrollment_id: int
    mailbox: Mailbox
    recipient: str
    raw: bytes
