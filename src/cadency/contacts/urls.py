from django.urls import path

from cadency.contacts.views import aliases, companies, contact_list, contact_record, delete, enroll
from cadency.contacts.views import edit as edit_pages

app_name = "contacts"
urlpatterns = [
    path("contacts/", contact_list.contact_list, name="list"),
    path("contacts/<int:pk>/", contact_record.contact_record, name="record"),
    path("contacts/<int:pk>/delete/", delete.delete, name="delete"),
    path("contacts/<int:pk>/aliases/", aliases.add_alias, name="add_alias"),
    path("contacts/<int:pk>/aliases/remove/", aliases.remove_alias, name="remove_alias"),
    path("contacts/<int:pk>/enroll/", enroll.enroll_page, name="enroll"),
    path("contacts/<int:pk>/enroll/forecast/", enroll.forecast_partial, name="forecast"),
    path("companies/", companies.company_list, name="companies"),
    path("companies/<int:pk>/", companies.company_record, name="company"),
    path("contacts/<int:pk>/edit/", edit_pages.edit_contact, name="edit"),
    path("companies/<int:pk>/edit/", edit_pages.edit_company, name="company_edit"),
]
