from django.conf import settings
from django.db import models

from cadency.automation.models.vocabulary import TriggerType
from cadency.lib import crypto


class Workflow(models.Model):
    """When an event of ``trigger_type`` matches the trigger's filters, run the actions
    in order (automation/actions.py)."""

    name = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="workflows"
    )
    enabled = models.BooleanField(default=False)
    trigger_type = models.CharField(max_length=40, choices=TriggerType.choices)
    # Filters on the event itself: {"field": ..., "value": ..., "list": id, "stage": ...,
    # "sequence": id, "reason": ...}; which keys apply depends on the trigger type.
    trigger_filters = models.JSONField(default=dict, blank=True)
    # Conditions on the contact and their company when the event happens.
    conditions = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list)
    webhook_secret_encrypted = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["trigger_type", "enabled"])]

    def __str__(self) -> str:
        return self.name

    @property
    def webhook_secret(self) -> str:
        return (
            crypto.decrypt(self.webhook_secret_encrypted) if self.webhook_secret_encrypted else ""
        )

    def set_webhook_secret(self, value: str) -> None:
        self.webhook_secret_encrypted = crypto.encrypt(value)


class RunStatus(models.TextChoices):
    SUCCEEDED = "succeeded"
    PARTLY = "partly", "Succeeded with refusals"
    FAILED = "failed"
    SKIPPED = "skipped", "Skipped (loop guard)"


class WorkflowRun(models.Model):
    """One run of a workflow for one contact an event concerns: at most one per
    (workflow, event, contact). A company or deal event concerns each of its contacts."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="runs")
    event = models.ForeignKey("ledger.Event", on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=RunStatus.choices)
    # One entry per action: {"action": ..., "outcome": ..., "detail": ...}.
    steps = models.JSONField(default=list)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "event", "contact"], name="one_run_per_event_and_contact"
            )
        ]
        indexes = [models.Index(fields=["workflow", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.workflow} on event {self.event_id} ({self.status})"
