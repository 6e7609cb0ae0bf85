from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "cadency.demo"
    label = "demo"
    verbose_name = "Demo mode"
