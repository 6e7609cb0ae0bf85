from django.contrib import admin

from cadency.contacts.models import Company, CompanyDomain, Contact, ContactEmail, Suppression


class CompanyDomainInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CompanyDomain
    extra = 0


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "created_at")
    search_fields = ("name", "domains__domain")
    inlines = [CompanyDomainInline]


class ContactEmailInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ContactEmail
    extra = 0


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("email", "first_name", "last_name", "company", "lifecycle_stage")
    search_fields = ("email", "first_name", "last_name", "aliases__email")
    list_filter = ("lifecycle_stage",)
    inlines = [ContactEmailInline]


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("email", "reason", "created_at")
    search_fields = ("email",)
    list_filter = ("reason",)
