from django.conf import settings
from django.db import models


class TriggerKind(models.TextChoices):
    PROPERTY_VALUE = "property_value", "A contact or company property becomes a value"
    DEAL_CREATED = "deal_created", "A deal is created for the contact or their company"
    DEAL_STAGE = "deal_stage", "A deal of the contact or their company reaches a stage"
    LIST_JOINED = "list_joined", "The contact joins a list"


class UnenrollTrigger(models.Model):
    """A condition set on a sequence's automation: when it becomes true for an
    enrolled contact, the enrollment ends with ``unenroll_trigger``."""

    sequence = models.ForeignKey(
        "sequences.Sequence", on_delete=models.CASCADE, related_name="unenroll_triggers"
    )
    kind = models.CharField(max_length=32, choices=TriggerKind.choices)
    config = models.JSONField(default=dict, blank=True)
    description = models.CharField(max_length=300)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "enabled"])]

    def __str__(self) -> str:
        return self.description
