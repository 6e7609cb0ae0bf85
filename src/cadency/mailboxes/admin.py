from django.contrib import admin

from cadency.mailboxes.models import Mailbox


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("email", "user", "health", "daily_limit", "last_checked_at")
    list_filter = ("health",)
    exclude = ("secret_encrypted",)
