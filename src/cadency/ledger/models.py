from typing import Any

from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    """Ledger rows are never changed or removed."""


class Event(models.Model):
    """One row of the append-only ledger: every state change Cadency makes."""

    occurred_at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=64)
    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    enrollment = models.ForeignKey(
        "sequences.Enrollment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
    )
    sequence = models.ForeignKey(
        "sequences.Sequence", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sentence = models.TextField(help_text="What happened, for a person to read.")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        # A plain index: db_index on a CharField adds a second, LIKE-pattern index
        # on PostgreSQL, which no query uses.
        indexes = [models.Index(fields=["kind"], name="ledger_event_kind")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("ledger events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("ledger events cannot be deleted")
