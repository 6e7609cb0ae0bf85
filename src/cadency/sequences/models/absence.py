"""A rep's absence: their enrollments and tasks wait until they are back (SPEC §8)."""

from django.conf import settings
from django.db import models


class Absence(models.Model):
    """A user away until a date. While it is open (``ended_at`` empty) the
    enrollments Cadency paused for it stay paused; it ends on ``returns_at`` (the
    sweep) or earlier when someone says the user is back."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="absences"
    )
    starts_at = models.DateTimeField()
    until = models.DateField(help_text="The user is back on this day.")
    returns_at = models.DateTimeField(
        help_text="Midnight of the return day in the user's time zone (their first mailbox's)."
    )
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who ended it early; empty when it ended on its date.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(ended_at=None),
                name="one_open_absence_per_user",
            )
        ]
        indexes = [
            models.Index(
                fields=["returns_at"], condition=models.Q(ended_at=None), name="absence_open_due"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} away until {self.until:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class PauseOutcome(models.TextChoices):
    PENDING = "", "Paused for the absence"
    RESUMED = "resumed", "Resumed on return"
    ALREADY_ACTIVE = "already_active", "Someone resumed it during the absence"
    PAUSED_BY_SOMEONE = "paused_by_someone", "Paused again by someone: left paused"
    ENDED = "ended", "Ended during the absence"
    OUT_OF_OFFICE_RESTORED = "out_of_office_restored", "Back to its out-of-office pause"


class AbsencePause(models.Model):
    """An enrollment Cadency paused for an absence: only these resume on return.

    ``paused_at`` is the enrollment's own ``paused_at`` when Cadency paused it (or
    took it over), so a pause someone made later is told apart. An enrollment that
    was waiting for a contact's out-of-office return date falling inside the
    absence is taken over: ``out_of_office_until`` keeps that date so an early
    return can hand it back.
    """

    absence = models.ForeignKey(Absence, on_delete=models.PROTECT, related_name="pauses")
    enrollment = models.ForeignKey(
        "sequences.Enrollment", on_delete=models.PROTECT, related_name="absence_pauses"
    )
    paused_at = models.DateTimeField()
    out_of_office_until = models.DateField(null=True, blank=True)
    out_of_office_message_id = models.BigIntegerField(null=True, blank=True)
    resumed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=32, choices=PauseOutcome.choices, blank=True, default=PauseOutcome.PENDING
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["absence", "enrollment"], name="one_pause_per_absence_enrollment"
            )
        ]

    def __str__(self) -> str:
        return f"enrollment {self.enrollment_id} paused for absence {self.absence_id}"


class AbsenceTask(models.Model):
    """An open task Cadency moved for an absence, and where it moved it to."""

    absence = models.ForeignKey(Absence, on_delete=models.PROTECT, related_name="tasks")
    task = models.ForeignKey("sequences.Task", on_delete=models.PROTECT, related_name="+")
    original_due_at = models.DateTimeField()
    moved_to = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["absence", "task"], name="one_move_per_absence_task")
        ]

    def __str__(self) -> str:
        return f"task {self.task_id} moved for absence {self.absence_id}"
