from django.conf import settings
from django.db import models


class Company(models.Model):
    name = models.CharField(max_length=200)
    properties = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return self.name


class CompanyDomain(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True)

    def __str__(self) -> str:
        return self.domain


class LifecycleStage(models.TextChoices):
    SUBSCRIBER = "subscriber"
    LEAD = "lead"
    MARKETING_QUALIFIED = "mql", "Marketing qualified lead"
    SALES_QUALIFIED = "sql", "Sales qualified lead"
    OPPORTUNITY = "opportunity"
    CUSTOMER = "customer"
    OTHER = "other"


class Contact(models.Model):
    email = models.EmailField(max_length=254, unique=True, help_text="Primary address.")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    time_zone = models.CharField(max_length=64, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    lifecycle_stage = models.CharField(
        max_length=32, choices=LifecycleStage.choices, default=LifecycleStage.LEAD
    )
    properties = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>" if self.full_name else self.email

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class ContactEmail(models.Model):
    """An additional address (alias) of a contact."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="aliases")
    email = models.EmailField(max_length=254, unique=True)

    def __str__(self) -> str:
        return self.email


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"


class Suppression(models.Model):
    """An address Cadency must never email again from any sequence."""

    email = models.EmailField(max_length=254, unique=True)
    reason = models.CharField(max_length=16, choices=SuppressionReason.choices)
    detail = models.TextField(blank=True)
    enrollment = models.ForeignKey(
        "sequences.Enrollment", null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"
