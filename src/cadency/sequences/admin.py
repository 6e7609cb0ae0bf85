"""Read-mostly admin: state changes go through the services, never raw edits."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from cadency.sequences.models import Enrollment, Sequence, Step, StepRun, Task, UnenrollReason
from cadency.sequences.services.bulk import unenroll_many
from cadency.web.requests import signed_in_user


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class StepInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Step
    extra = 0
    fields = ("version", "position", "kind", "delay", "delay_unit", "subject", "task_title")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Sequence)
class SequenceAdmin(ReadOnlyAdmin):
    """Sequences are created from YAML (`cadency sequence create`) so steps stay versioned."""

    list_display = ("name", "owner", "current_version", "created_at", "archived_at")
    search_fields = ("name",)
    inlines = [StepInline]


class StepRunInline(admin.TabularInline):  # type: ignore[type-arg]
    model = StepRun
    extra = 0
    fields = ("position", "state", "due_at", "attempts", "message_id", "executed_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Enrollment)
class EnrollmentAdmin(ReadOnlyAdmin):
    list_display = ("email", "sequence", "status", "reason", "enrolled_by", "started_at")
    list_filter = ("status", "reason")
    search_fields = ("email", "contact__email", "sequence__name")
    inlines = [StepRunInline]
    actions = ["unenroll_selected"]

    def has_unenroll_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active

    @admin.action(description="Unenroll selected contacts", permissions=["unenroll"])
    def unenroll_selected(self, request: HttpRequest, queryset: QuerySet[Enrollment]) -> None:
        user = signed_in_user(request)
        allowed = (
            queryset if user.can_act_on_all_enrollments() else queryset.filter(enrolled_by=user)
        )
        refused = queryset.count() - allowed.count()
        ended = unenroll_many(
            enrollment_ids=allowed.values_list("pk", flat=True),
            reason=UnenrollReason.MANUAL,
            actor=user,
        )
        self.message_user(request, f"{ended} enrollments ended.", messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                f"{refused} enrollments belong to other reps and were left alone.",
                messages.WARNING,
            )


@admin.register(StepRun)
class StepRunAdmin(ReadOnlyAdmin):
    list_display = ("pk", "enrollment", "position", "state", "due_at", "attempts")
    list_filter = ("state",)
    search_fields = ("message_id",)


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ("title", "assignee", "contact", "status", "due_at")
    list_filter = ("status", "kind")
