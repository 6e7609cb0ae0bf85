from django.db import models


class StepRunState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    # Claimed by a worker, Message-ID fixed, SMTP transaction may be in flight.
    SENDING = "sending", "Sending"
    # The SMTP server accepted it; the ledger and the next step are being written.
    ACCEPTED = "accepted", "Accepted by SMTP"
    SENT = "sent", "Sent"
    TASK_OPEN = "task_open", "Task open"
    DONE = "done", "Done"
    BOUNCED = "bounced", "Bounced at SMTP time"
    CANCELLED = "cancelled", "Cancelled"


PENDING_STATES = (StepRunState.SCHEDULED, StepRunState.SENDING)


class StepRun(models.Model):
    """One scheduled execution of a step for an enrollment."""

    # The foreign keys below without an index of their own are covered by the
    # leading column of a composite one (one_run_per_step_position, steprun_mailbox_claimed):
    # every index is written again on each change of state.
    enrollment = models.ForeignKey(
        "sequences.Enrollment", on_delete=models.PROTECT, related_name="step_runs", db_index=False
    )
    step = models.ForeignKey("sequences.Step", on_delete=models.PROTECT, related_name="runs")
    position = models.PositiveIntegerField()
    mailbox = models.ForeignKey(
        "mailboxes.Mailbox", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    state = models.CharField(
        max_length=16, choices=StepRunState.choices, default=StepRunState.SCHEDULED
    )
    due_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    message_id = models.CharField(max_length=300, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    sent_copy_saved = models.BooleanField(default=False)
    last_error = models.TextField(blank=True)
    task_id = models.UUIDField(null=True, blank=True, help_text="The queued task, if any.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "position"], name="one_run_per_step_position"
            )
        ]
        indexes = [
            # Only pending rows are indexed, so the due-step query never grows
            # with the number of finished or unenrolled enrollments.
            models.Index(
                fields=["due_at"],
                condition=models.Q(state="scheduled"),
                name="steprun_due_scheduled",
            ),
            models.Index(
                fields=["claimed_at"],
                condition=models.Q(state="sending"),
                name="steprun_sending",
            ),
            models.Index(
                fields=["claimed_at"],
                condition=models.Q(state="accepted"),
                name="steprun_accepted",
            ),
            models.Index(fields=["mailbox", "claimed_at"], name="steprun_mailbox_claimed"),
            models.Index(fields=["message_id"], name="steprun_message_id"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of enrollment {self.enrollment_id} step {self.position}"
