from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from cadency.accounts.models import Alert, ApiToken, User
from cadency.accounts.permissions import check_may_deactivate_user
from cadency.accounts.tokens import revoke_token
from cadency.sequences.services.lifecycle import (
    Deactivation,
    DeactivationError,
    check_deactivation,
    deactivate_user,
    deactivation_preview,
    reactivate_user,
)
from cadency.web.requests import signed_in_user

HEIR_HELP = (
    "When you untick “Active”: who takes over the user's open tasks. Left empty, the "
    "tasks are cancelled. Either way the enrollments they made end (user deactivated)."
)


def heir_field() -> forms.ModelChoiceField:  # type: ignore[type-arg]
    return forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        label="Reassign open tasks to",
        empty_label="Nobody: cancel them",
        help_text=HEIR_HELP,
    )


class CadencyUserChangeForm(UserChangeForm):  # type: ignore[type-arg]
    """Unticking "Active" deactivates through ``deactivate_user``, like every other path."""

    actor: User  # set per request by ``CadencyUserAdmin.get_form``
    reassign_tasks_to = heir_field()

    def deactivating(self) -> bool:
        return bool(
            self.instance.pk
            and "is_active" in self.changed_data
            and not self.cleaned_data.get("is_active")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.deactivating():
            try:
                check_may_deactivate_user(self.actor, self.instance)
                check_deactivation(
                    user=self.instance,
                    actor=self.actor,
                    reassign_tasks_to=data.get("reassign_tasks_to"),
                )
            except (PermissionDenied, DeactivationError) as exc:
                raise forms.ValidationError(f"Not deactivated: {exc}.") from exc
        return data


class DeactivateForm(forms.Form):
    reassign_tasks_to = heir_field()


@admin.register(User)
class CadencyUserAdmin(UserAdmin):  # type: ignore[type-arg]
    form = CadencyUserChangeForm
    list_display = ("username", "email", "role", "is_active")
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("Cadency", {"fields": ("role", "reassign_tasks_to")}),
    )
    actions = ["deactivate_selected"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": signed_in_user(request)})

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        deactivating = change and form.deactivating()
        reactivating = change and "is_active" in form.changed_data and obj.is_active
        if reactivating:
            obj.is_active = False  # the service below switches it on and records it
        super().save_model(request, obj, form, change)
        actor = signed_in_user(request)
        if deactivating:
            done = deactivate_user(
                user=obj, actor=actor, reassign_tasks_to=form.cleaned_data.get("reassign_tasks_to")
            )
            self.message_user(request, self.deactivated_message(obj, done))
        elif reactivating:
            reactivate_user(user=obj, actor=actor)
            self.message_user(
                request,
                f"{obj.username} is active again. Enrollments that ended when they were "
                "deactivated stay ended.",
            )

    @staticmethod
    def deactivated_message(user: User, done: Deactivation) -> str:
        tasks = (
            f"{done.tasks_reassigned} open task(s) reassigned to {done.reassigned_to.username}"
            if done.reassigned_to
            else f"{done.tasks_cancelled} open task(s) cancelled"
        )
        return (
            f"Deactivated {user.username}: {done.enrollments_ended} open enrollment(s) they "
            f"made ended; {tasks}."
        )

    @admin.action(description="Deactivate the selected users…")
    def deactivate_selected(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> HttpResponse | None:
        """A confirmation page first (what will end, who takes the tasks), then the
        same service as every other path."""
        actor = signed_in_user(request)
        users = list(queryset.filter(is_active=True).order_by("username"))
        refused = []
        for user in users:
            try:
                check_may_deactivate_user(actor, user)
                check_deactivation(user=user, actor=actor)
            except (PermissionDenied, DeactivationError) as exc:
                refused.append(f"{user.username}: {exc}")
        if refused or not users:
            for reason in refused:
                self.message_user(request, f"Nothing was deactivated. {reason}.", messages.ERROR)
            if not users:
                self.message_user(request, "The selected users are already deactivated.")
            return None
        form = DeactivateForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            heir = form.cleaned_data["reassign_tasks_to"]
            if heir is not None and heir.pk in {u.pk for u in users}:
                form.add_error("reassign_tasks_to", "Choose someone who stays active.")
            else:
                for user in users:
                    done = deactivate_user(user=user, actor=actor, reassign_tasks_to=heir)
                    self.message_user(request, self.deactivated_message(user, done))
                return None
        return TemplateResponse(
            request,
            "admin/accounts/user/deactivate_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": "Deactivate users",
                "opts": self.model._meta,
                "rows": [(u, deactivation_preview(u)) for u in users],
                "form": form,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("title", "user", "kind", "created_at", "dismissed_at", "resolved_at")
    list_filter = ("kind", "resolved_at", "dismissed_at")
    search_fields = ("title", "user__username", "key")
    readonly_fields = [field.name for field in Alert._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


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
