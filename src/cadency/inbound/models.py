"""Inbound mail: every message a watched folder receives, kept raw, with its status.

A message moves through the stages store → classify → identify → decide → act
(``docs/inbound.md``); ``status`` says how far it got and ``decision`` what was done.
"""

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from cadency.inbound.classification import Classification, FailedRecipient, Flag, Label


class InboundStatus(models.TextChoices):
    RECEIVED = "received", "Stored, not processed yet"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed (raw kept; reprocess later)"
    IGNORED_OWN = "ignored_own", "Our own message (a copy of what we sent)"


class DecisionCode(models.TextChoices):
    """What the decide stage concluded for a message, in one word."""

    UNENROLLED = "unenrolled", "Unenrolled"
    BOUNCE_COUNTED = "bounce_counted", "Soft bounce counted"
    SEND_BLOCKED = "send_blocked", "Sending blocked (rep alerted)"
    SUPPRESSED = "suppressed", "Address suppressed (no open enrollment)"
    PAUSED_UNTIL_RETURN = "paused_until_return", "Paused until the return date"
    CONTACT_FLAGGED = "contact_flagged", "Contact flagged for the rep"
    TIMELINE_ONLY = "timeline_only", "Timeline only"
    NO_ENROLLMENT = "no_enrollment", "No open enrollment concerned"
    IGNORED_OWN = "ignored_own", "Our own message"


class InboundMessage(models.Model):
    """One message seen in a watched folder. The raw bytes are kept forever."""

    mailbox = models.ForeignKey(
        "mailboxes.Mailbox", on_delete=models.PROTECT, related_name="inbound_messages"
    )
    folder = models.CharField(max_length=200)
    uidvalidity = models.BigIntegerField()
    uid = models.BigIntegerField()
    raw = models.BinaryField()
    received_at = models.DateTimeField(default=timezone.now, help_text="When Cadency stored it.")

    # Header fields, extracted cheaply when stored (garbage tolerated), for lists and matching.
    message_id = models.CharField(max_length=500, blank=True, db_index=True)
    in_reply_to = models.TextField(blank=True)
    references = models.TextField(blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="The Date header.")

    status = models.CharField(
        max_length=16, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    error = models.TextField(blank=True)
    label = models.CharField(max_length=32, blank=True, choices=[(v.value, v.value) for v in Label])
    classification = models.JSONField(default=dict, blank=True)
    decision = models.CharField(max_length=32, blank=True, choices=DecisionCode.choices)
    decision_evidence = models.JSONField(default=dict, blank=True)
    # The address a soft bounce was counted for (decision ``bounce_counted``).
    bounce_address = models.CharField(max_length=320, blank=True, db_index=True)
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_messages",
    )
    enrollment = models.ForeignKey(
        "sequences.Enrollment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_messages",
    )
    processed_at = models.DateTimeField(null=True, blank=True)

    relabeled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    relabeled_at = models.DateTimeField(null=True, blank=True)
    original_label = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "folder", "uidvalidity", "uid"],
                name="inbound_unique_imap_position",
            )
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="inbound_status_received"),
            models.Index(fields=["mailbox", "received_at"], name="inbound_mailbox_received"),
        ]

    def __str__(self) -> str:
        return f"{self.from_address or '?'}: {self.subject or '(no subject)'} ({self.status})"

    @property
    def when(self) -> dt.datetime:
        """When the message says it was written, else when it was stored."""
        return self.sent_at or self.received_at

    def set_classification(self, classification: Classification) -> None:
        self.label = classification.label.value
        self.classification = classification_to_json(classification)

    def get_classification(self) -> Classification | None:
        if not self.classification:
            return None
        return classification_from_json(self.classification)


def classification_to_json(c: Classification) -> dict[str, Any]:
    return {
        "label": c.label.value,
        "confidence": c.confidence,
        "reasons": list(c.reasons),
        "failed_recipients": [
            {
                "address": f.address,
                "status": f.status,
                "action": f.action,
                "diagnostic": f.diagnostic,
            }
            for f in c.failed_recipients
        ],
        "return_date": c.return_date.isoformat() if c.return_date else None,
        "flags": sorted(f.value for f in c.flags),
        "original_message_id": c.original_message_id,
        "calendar_partstat": c.calendar_partstat,
        "classifier_version": c.classifier_version,
    }


def classification_from_json(data: dict[str, Any]) -> Classification:
    flags = frozenset(Flag(f) for f in data.get("flags", []) if f in Flag._value2member_map_)
    return_date = data.get("return_date")
    return Classification(
        label=Label(data["label"]),
        confidence=float(data.get("confidence", 0.0)),
        reasons=[str(r) for r in data.get("reasons", [])],
        failed_recipients=[
            FailedRecipient(
                address=str(f.get("address", "")),
                status=str(f.get("status", "")),
                action=str(f.get("action", "")),
                diagnostic=str(f.get("diagnostic", "")),
            )
            for f in data.get("failed_recipients", [])
        ],
        return_date=dt.date.fromisoformat(return_date) if return_date else None,
        flags=flags,
        original_message_id=data.get("original_message_id"),
        calendar_partstat=data.get("calendar_partstat"),
        classifier_version=str(data.get("classifier_version", "")),
    )


class ScheduledResume(models.Model):
    """An enrollment paused for an out-of-office reply, to resume on the return date.

    ``resume_due()`` (``cadency.inbound.actions``) resumes the due ones; the sweep calls it.
    """

    enrollment = models.ForeignKey(
        "sequences.Enrollment", on_delete=models.CASCADE, related_name="scheduled_resumes"
    )
    resume_on = models.DateField()
    message = models.ForeignKey(
        InboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment"],
                condition=models.Q(done=False),
                name="one_pending_resume_per_enrollment",
            )
        ]
        indexes = [
            models.Index(
                fields=["resume_on"], condition=models.Q(done=False), name="resume_pending_due"
            )
        ]

    def __str__(self) -> str:
        return f"resume enrollment {self.enrollment_id} on {self.resume_on}"
