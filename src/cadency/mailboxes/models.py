from django.conf import settings
from django.db import models

from cadency.lib import crypto

INBOX = "INBOX"


def default_watched_folders() -> list[str]:
    return [INBOX]


class Security(models.TextChoices):
    NONE = "none", "Plain (loopback or trusted network only)"
    STARTTLS = "starttls", "STARTTLS"
    TLS = "tls", "Implicit TLS"


class AuthMethod(models.TextChoices):
    PASSWORD = "password"  # noqa: S105 (a method name, not a secret)
    XOAUTH2 = "xoauth2", "OAuth2 access token (XOAUTH2)"


class SentCopy(models.TextChoices):
    APPEND = "append", "Cadency appends a copy to the Sent folder over IMAP"
    PROVIDER = "provider", "The provider files sent mail itself (Gmail, Microsoft 365)"
    NONE = "none", "Keep no copy"


class Health(models.TextChoices):
    UNKNOWN = "unknown"
    OK = "ok"
    FAILING = "failing"


class Mailbox(models.Model):
    """A user's connected inbox: SMTP for sending, IMAP for watching."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mailboxes"
    )
    email = models.EmailField(max_length=254)
    display_name = models.CharField(max_length=200, blank=True)
    username = models.CharField(max_length=254)
    auth_method = models.CharField(
        max_length=16, choices=AuthMethod.choices, default=AuthMethod.PASSWORD
    )
    secret_encrypted = models.TextField(help_text="Password or OAuth2 token, encrypted.")

    smtp_host = models.CharField(max_length=253)
    smtp_port = models.PositiveIntegerField(default=587)
    smtp_security = models.CharField(
        max_length=16, choices=Security.choices, default=Security.STARTTLS
    )
    imap_host = models.CharField(max_length=253)
    imap_port = models.PositiveIntegerField(default=993)
    imap_security = models.CharField(max_length=16, choices=Security.choices, default=Security.TLS)
    sent_folder = models.CharField(max_length=200, default="Sent")
    sent_copy = models.CharField(max_length=16, choices=SentCopy.choices, default=SentCopy.APPEND)
    watched_folders = models.JSONField(
        default=default_watched_folders,
        help_text="The folders the watcher reads for replies: INBOX, plus any folder the "
        "rep's mail rules file replies into.",
    )

    daily_limit = models.PositiveIntegerField(default=500)
    per_minute_limit = models.PositiveIntegerField(default=20)
    time_zone = models.CharField(max_length=64, default="UTC")

    health = models.CharField(max_length=16, choices=Health.choices, default=Health.UNKNOWN)
    last_error = models.TextField(blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    # Consecutive failures to connect or log in, per side (mailboxes.health): at
    # CADENCY_MAILBOX_FAILURES_BEFORE_PAUSE the enrollments sending through it pause.
    smtp_failures = models.PositiveIntegerField(default=0)
    smtp_failed_at = models.DateTimeField(null=True, blank=True)
    imap_failures = models.PositiveIntegerField(default=0)
    imap_failed_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "mailboxes"
        constraints = [
            models.UniqueConstraint(fields=["user", "email"], name="mailbox_unique_per_user")
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted)

    def set_secret(self, value: str) -> None:
        self.secret_encrypted = crypto.encrypt(value)

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[1]

    @property
    def is_working(self) -> bool:
        return self.health != Health.FAILING

    @property
    def folders_to_watch(self) -> list[str]:
        """INBOX first, then the other watched folders, each once (INBOX is
        case-insensitive in IMAP; other names are not)."""
        folders = [INBOX]
        for name in self.watched_folders or []:
            name = str(name).strip()
            if name and name.upper() != INBOX and name not in folders:
                folders.append(name)
        return folders


class FolderSyncState(models.Model):
    """How far the watcher has read one folder of a mailbox (IMAP UIDs)."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="sync_states")
    folder = models.CharField(max_length=200, default=INBOX)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # When a folder was added to a connected mailbox: its first sync reads from
    # then, not from when the mailbox was connected. Empty: from the connection.
    watched_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "folder"], name="one_sync_state_per_folder")
        ]

    def __str__(self) -> str:
        return f"{self.mailbox} {self.folder} uid {self.last_uid}"


class WatcherLease(models.Model):
    """Which watcher process holds a mailbox, until when (renewed while it lives)."""

    mailbox = models.OneToOneField(Mailbox, on_delete=models.CASCADE, related_name="lease")
    holder = models.CharField(max_length=100, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.mailbox} held by {self.holder or 'nobody'}"


class MailboxPause(models.Model):
    """An enrollment Cadency paused because its mailbox kept failing: only these
    resume when the mailbox works again (``mailboxes.health``).

    ``paused_at`` is the enrollment's own ``paused_at`` when Cadency paused it, so a
    pause a person made later (after resuming it by hand) is told apart and left alone.
    """

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="pauses")
    enrollment = models.ForeignKey(
        "sequences.Enrollment", on_delete=models.CASCADE, related_name="mailbox_pauses"
    )
    paused_at = models.DateTimeField()
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=32, blank=True, help_text="resumed, or why it was left as it was."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment"],
                condition=models.Q(done=False),
                name="one_pending_mailbox_pause_per_enrollment",
            )
        ]
        indexes = [
            models.Index(
                fields=["mailbox"], condition=models.Q(done=False), name="mailbox_pause_pending"
            )
        ]

    def __str__(self) -> str:
        return f"enrollment {self.enrollment_id} paused for mailbox {self.mailbox_id}"
