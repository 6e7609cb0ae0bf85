from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from cadency.accounts.models import User


@admin.register(User)
class CadencyUserAdmin(UserAdmin):  # type: ignore[type-arg]
    list_display = ("username", "email", "role", "is_active")
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Cadency", {"fields": ("role",)}))
