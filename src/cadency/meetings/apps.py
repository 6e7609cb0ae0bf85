from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "cadency.meetings"
    label = "meetings"
