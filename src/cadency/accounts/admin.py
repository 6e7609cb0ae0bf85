from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from cadency.accounts.models import ApiToken, User
from cadency.accounts.tokens import revoke_token
from cadency.web.requests import signed_in_user


@admin.register(User)
class CadencyUserAdmin(UserAdmin):  # type: ignore[type-arg]
    list_display = ("username", "email", "role", "is_active")
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Cadency", {"fields": ("role",)}))


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: tokens are created (and their secret shown once) on /account/."""

    list_display = ("prefix", "name", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("prefix", "name", "user__username")
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    exclude = ("secret_hash",)
    actions = ["revoke_selected"]

    @admin.action(description="Revoke the selected tokens")
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        actor = signed_in_user(request)
        revoked = sum(revoke_token(token=token, actor=actor) for token in queryset)
        self.message_user(request, f"Revoked {revoked} token(s).")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False
