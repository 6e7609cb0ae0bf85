from django.conf import settings
from django.db import models


class TaskStatus(models.TextChoices):
    OPEN = "open"
    COMPLETED = "completed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class Task(models.Model):
    """A to-do for a rep: a manual email, a call, a LinkedIn touch, anything else."""

    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tasks"
    )
    contact = models.ForeignKey("contacts.Contact", on_delete=models.PROTECT, related_name="tasks")
    step_run = models.OneToOneField(
        "sequences.StepRun", null=True, blank=True, on_delete=models.PROTECT, related_name="task"
    )
    kind = models.CharField(max_length=32)
    title = models.CharField(max_length=300)
    notes = models.TextField(blank=True)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["assignee", "status", "due_at"])]

    def __str__(self) -> str:
        return self.title
