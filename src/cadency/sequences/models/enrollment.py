from django.conf import settings
from django.db import models


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active"
    PAUSED = "paused"
    FINISHED = "finished"
    UNENROLLED = "unenrolled"


OPEN_STATUSES = (EnrollmentStatus.ACTIVE, EnrollmentStatus.PAUSED)


class UnenrollReason(models.TextChoices):
    """Why an enrollment ended: exactly the codes of SPEC §3."""

    REPLIED = "replied"
    EMAILED = "emailed"
    REPLIED_OTHER_ADDRESS = "replied_other_address"
    EMAILED_FROM_ALIAS = "emailed_from_alias"
    COMPANY_REPLIED = "company_replied"
    MEETING_BOOKED = "meeting_booked"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    WORKFLOW = "workflow"
    UNENROLL_TRIGGER = "unenroll_trigger"
    FINISHED = "finished"
    MANUAL = "manual"
    USER_DEACTIVATED = "user_deactivated"
    SEQUENCE_DELETED = "sequence_deleted"
    CONTACT_DELETED = "contact_deleted"


class Enrollment(models.Model):
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.PROTECT, related_name="enrollments"
    )
    # sequence and enrolled_by are indexed by the composite indexes in Meta.
    sequence = models.ForeignKey(
        "sequences.Sequence", on_delete=models.PROTECT, related_name="enrollments", db_index=False
    )
    sequence_version = models.PositiveIntegerField()
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="enrollments",
        db_index=False,
    )
    mailbox = models.ForeignKey(
        "mailboxes.Mailbox", on_delete=models.PROTECT, related_name="enrollments"
    )
    email = models.EmailField(max_length=254, help_text="The enrolled address.")
    status = models.CharField(
        max_length=16, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ACTIVE
    )
    reason = models.CharField(max_length=32, choices=UnenrollReason.choices, blank=True)
    reason_text = models.TextField(blank=True, help_text="A sentence a person can read.")
    evidence = models.JSONField(default=dict, blank=True)
    current_position = models.PositiveIntegerField(default=1)
    # Sending policy frozen at enrollment: later edits affect new enrollments only.
    send_settings = models.JSONField(default=dict)

    started_at = models.DateTimeField()
    paused_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contact"],
                condition=models.Q(status__in=["active", "paused"]),
                name="one_open_enrollment_per_contact",
            )
        ]
        indexes = [
            models.Index(fields=["sequence", "status"]),
            models.Index(fields=["enrolled_by", "status"]),
            # The Enrollments tab pages through a sequence newest first.
            models.Index(fields=["sequence", "-started_at", "-id"], name="enrollment_seq_started"),
        ]

    def __str__(self) -> str:
        return f"{self.email} in {self.sequence_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES
