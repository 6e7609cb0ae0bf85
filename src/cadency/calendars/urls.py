from django.urls import path

from cadency.calendars import views

app_name = "calendars"
urlpatterns = [
    path("calendars/", views.calendar_list, name="list"),
    path("calendars/connect/", views.connect, name="connect"),
    path("calendars/<int:connection_id>/sync/", views.sync_now, name="sync"),
    path("calendars/<int:connection_id>/disconnect/", views.disconnect_calendar, name="disconnect"),
]
