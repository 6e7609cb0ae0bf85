from django.db import models


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent or retried"
    DELIVERED = "delivered"
    FAILED = "failed", "Failed (gave up)"


class WebhookDelivery(models.Model):
    """One webhook call a workflow run asked for, with every attempt in ``attempts``."""

    run = models.ForeignKey(
        "automation.WorkflowRun", on_delete=models.CASCADE, related_name="deliveries"
    )
    url = models.URLField(max_length=2000)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    # [{"at": iso, "status_code": int | None, "error": str, "seconds": float}, ...]
    attempts = models.JSONField(default=list)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.url} ({self.status})"
