from django.contrib import admin

from cadency.sequences.models import Enrollment, Sequence, Step, StepRun, Task


class StepInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Step
    extra = 0
    fields = ("version", "position", "kind", "delay", "delay_unit", "subject", "task_title")


@admin.register(Sequence)
class SequenceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "owner", "current_version", "created_at", "archived_at")
    search_fields = ("name",)
    inlines = [StepInline]


class StepRunInline(admin.TabularInline):  # type: ignore[type-arg]
    model = StepRun
    extra = 0
    fields = ("position", "state", "due_at", "attempts", "message_id", "executed_at")
    readonly_fields = fields
    can_delete = False


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("email", "sequence", "status", "reason", "enrolled_by", "started_at")
    list_filter = ("status", "reason")
    search_fields = ("email", "contact__email", "sequence__name")
    readonly_fields = ("reason_text", "evidence", "send_settings")
    inlines = [StepRunInline]


@admin.register(StepRun)
class StepRunAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("pk", "enrollment", "position", "state", "due_at", "attempts")
    list_filter = ("state",)
    search_fields = ("message_id",)


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("title", "assignee", "contact", "status", "due_at")
    list_filter = ("status", "kind")
