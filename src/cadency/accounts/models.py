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


class Alert(models.Model):
    """Something a user must know and act on (e.g. a mailbox that keeps failing).

    Listed on /alerts/ and counted in the navigation while it is open: neither
    dismissed by the user nor resolved by Cadency. ``key`` names the problem, so a
    problem that keeps happening has one unresolved alert, not one per occurrence.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=64)
    key = models.CharField(max_length=200, help_text="The problem, e.g. mailbox_failing:12.")
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True, help_text="Where to fix it.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True, help_text="How it was resolved.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"],
                condition=models.Q(resolved_at=None),
                name="one_unresolved_alert_per_problem",
            )
        ]
        indexes = [
            models.Index(
                fields=["user"],
                condition=models.Q(resolved_at=None, dismissed_at=None),
                name="alert_open_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.user})"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None and self.dismissed_at is None


class LoginFailure(models.Model):
    """One failed sign-in: counted per username and per client address to slow down
    password guessing (``accounts.login_limits``). Kept in the database so that every
    web process sees the same counts."""

    username = models.CharField(max_length=150, help_text="As typed, lowercased.")
    ip_address = models.CharField(max_length=45)
    failed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["username", "failed_at"], name="login_failure_by_username"),
            models.Index(fields=["ip_address", "failed_at"], name="login_failure_by_address"),
        ]

    def __str__(self) -> str:
        return f"{self.username} from {self.ip_address} at {self.failed_at:%Y-%m-%d %H:%M:%S}"
