from django.contrib import admin

from cadency.outbound.models import SentMessage


@admin.register(SentMessage)
class SentMessageAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("message_id", "to_email", "subject", "accepted_at")
    search_fields = ("message_id", "to_email", "subject")
    exclude = ("raw",)
