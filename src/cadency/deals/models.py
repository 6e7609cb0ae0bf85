from django.conf import settings
from django.db import models


class DealStage(models.TextChoices):
    QUALIFICATION = "qualification"
    PROPOSAL = "proposal"
    NEGOTIATION = "negotiation"
    WON = "won"
    LOST = "lost"


class Deal(models.Model):
    """A minimal deal: enough to log meetings on and for automation to react to."""

    name = models.CharField(max_length=200)
    stage = models.CharField(
        max_length=32, choices=DealStage.choices, default=DealStage.QUALIFICATION
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    company = models.ForeignKey(
        "contacts.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    contacts = models.ManyToManyField("contacts.Contact", blank=True, related_name="deals")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name
