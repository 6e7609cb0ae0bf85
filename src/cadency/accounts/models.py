from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    REP = "rep", "Rep"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Admin"


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REP)

    def can_act_on_all_enrollments(self) -> bool:
        return self.is_superuser or self.role in {Role.MANAGER, Role.ADMIN}

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class ApiToken(models.Model):
    """A personal token for the REST API. Only a hash of the secret is kept:
    the full token is shown once, when it is created."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for.")
    prefix = models.CharField(
        max_length=16, unique=True, help_text="The token's first characters, shown to the user."
    )
    secret_hash = models.CharField(max_length=64, help_text="SHA-256 of the whole token.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name}, {self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
