from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "cadency.calendars"
    label = "calendars"
