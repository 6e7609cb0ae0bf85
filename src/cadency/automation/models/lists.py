from django.conf import settings
from django.db import models


class ListKind(models.TextChoices):
    STATIC = "static", "Static (people add and remove contacts)"
    DYNAMIC = "dynamic", "Dynamic (every contact matching the filters)"


class ContactList(models.Model):
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=16, choices=ListKind.choices)
    # Dynamic lists: conditions over contact and company fields (automation/conditions.py).
    conditions = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class ListMembership(models.Model):
    """A contact in a list; for dynamic lists kept in step with the contact's data."""

    contact_list = models.ForeignKey(
        ContactList, on_delete=models.CASCADE, related_name="memberships"
    )
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="list_memberships"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact_list", "contact"], name="one_membership")
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.contact_list_id}"
