from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("cadency.web.urls")),
    path("", include("cadency.accounts.urls")),
    path("", include("cadency.contacts.urls")),
    path("", include("cadency.sequences.urls")),
    path("", include("cadency.mailboxes.urls")),
    path("", include("cadency.calendars.urls")),
    path("", include("cadency.inbound.urls")),
    path("", include("cadency.meetings.urls")),
    path("", include("cadency.deals.urls")),
    path("", include("cadency.automation.urls")),
    path("", include("cadency.api.urls")),
    path("", include("cadency.demo.urls")),
    path("", include("cadency.tracking.urls")),
    path("", include("cadency.sidebar.urls")),
]
