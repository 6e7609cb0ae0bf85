from django.conf import settings
from django.db import models


class Client(models.TextChoices):
    GMAIL = "gmail", "Gmail sidebar"
    OUTLOOK = "outlook", "Outlook add-in"


class Pairing(models.Model):
    """Connecting a mail-client panel to a user, like the OAuth device flow.

    The panel holds a random secret (only its SHA-256 is kept here) and shows a
    short code; the user approves the code while signed in; the panel then claims
    an API token with the secret, once.
    """

    secret_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the secret.")
    code = models.CharField(max_length=9, unique=True, help_text="What the user checks: ABCD-EFGH.")
    client = models.CharField(max_length=16, choices=Client.choices)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    token = models.ForeignKey(
        "accounts.ApiToken",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The token handed out when the panel claimed the approved pairing.",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.code} ({self.client})"
