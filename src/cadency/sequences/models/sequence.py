import datetime as dt

from django.conf import settings
from django.db import models


def default_send_days() -> list[int]:
    return [0, 1, 2, 3, 4]  # Monday..Friday (ISO weekday - 1)


class Sequence(models.Model):
    name = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sequences"
    )
    # Steps are versioned: editing creates a new version, enrollments keep theirs.
    current_version = models.PositiveIntegerField(default=1)

    send_window_start = models.TimeField(default=dt.time(8, 0))
    send_window_end = models.TimeField(default=dt.time(18, 0))
    send_days = models.JSONField(default=default_send_days, help_text="Weekdays, 0 = Monday.")
    business_days_only = models.BooleanField(default=True)
    thread_follow_ups = models.BooleanField(default=True)
    unenroll_same_company = models.BooleanField(default=False)
    task_reminders = models.BooleanField(default=True)
    pause_on_out_of_office = models.BooleanField(
        default=False, help_text="Pause until the return date an out-of-office reply names."
    )
    track_clicks = models.BooleanField(
        default=False, help_text="Send links through signed redirects that count clicks."
    )
    track_opens = models.BooleanField(
        default=False, help_text="Put a 1x1 image in the HTML part that counts opens."
    )

    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(null=True, blank=True, help_text="Set when deleted.")

    def __str__(self) -> str:
        return self.name

    def current_steps(self) -> models.QuerySet["Step"]:
        return self.steps.filter(version=self.current_version).order_by("position")


class StepKind(models.TextChoices):
    AUTOMATED_EMAIL = "automated_email"
    MANUAL_EMAIL = "manual_email", "Manual email task"
    CALL = "call", "Call task"
    LINKEDIN = "linkedin", "LinkedIn task"
    TASK = "task", "General task"

    @property
    def is_task(self) -> bool:
        return self != StepKind.AUTOMATED_EMAIL


class DelayUnit(models.TextChoices):
    DAYS = "days"
    BUSINESS_DAYS = "business_days"


class Step(models.Model):
    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="steps")
    version = models.PositiveIntegerField(default=1)
    position = models.PositiveIntegerField(help_text="1-based order within the version.")
    kind = models.CharField(max_length=32, choices=StepKind.choices)
    delay = models.PositiveIntegerField(default=0, help_text="Delay after the previous step.")
    delay_unit = models.CharField(max_length=16, choices=DelayUnit.choices, default=DelayUnit.DAYS)
    subject = models.CharField(max_length=500, blank=True)
    body = models.TextField(blank=True, help_text="Plain text with {{ tokens | fallbacks }}.")
    thread_as_reply = models.BooleanField(default=True)
    pause_until_complete = models.BooleanField(default=False)
    task_title = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sequence", "version", "position"], name="step_unique_position"
            )
        ]
        ordering = ["sequence", "version", "position"]

    def __str__(self) -> str:
        return f"{self.sequence} v{self.version} step {self.position} ({self.kind})"

    @property
    def step_kind(self) -> StepKind:
        return StepKind(self.kind)
