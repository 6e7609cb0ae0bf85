"""What one rule of the chain concludes (turned into a Classification at the end)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cadency.inbound.classification import FailedRecipient, Flag, Label


@dataclass
class Verdict:
    label: Label
    confidence: float
    reasons: list[str]
    failed_recipients: list[FailedRecipient] = field(default_factory=list)
    original_message_id: str | None = None
    flags: set[Flag] = field(default_factory=set)
    calendar_partstat: str | None = None
    return_date: dt.date | None = None
