from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "cadency.tracking"
    label = "tracking"
    verbose_name = "Tracked links and opens"
