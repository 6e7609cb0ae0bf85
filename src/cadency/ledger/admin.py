from django.contrib import admin
from django.http import HttpRequest

from cadency.ledger.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("occurred_at", "kind", "contact", "enrollment", "sentence")
    list_filter = ("kind",)
    search_fields = ("sentence", "contact__email")

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
