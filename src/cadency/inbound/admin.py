"""Read-only admin for inbound mail: changes go through the pipeline and relabel services."""

from django.contrib import admin
from django.http import HttpRequest

from cadency.inbound.models import InboundMessage, ScheduledResume


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "mailbox",
        "from_address",
        "subject",
        "label",
        "status",
        "decision",
    )
    list_filter = ("status", "label", "decision")
    search_fields = ("from_address", "subject", "message_id")
    exclude = ("raw",)
    list_select_related = ("mailbox",)
    date_hierarchy = "received_at"


@admin.register(ScheduledResume)
class ScheduledResumeAdmin(ReadOnlyAdmin):
    list_display = ("enrollment", "resume_on", "done", "created_at")
    list_filter = ("done",)
