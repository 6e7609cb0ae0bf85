from django.apps import AppConfig


class DealsConfig(AppConfig):
    name = "cadency.deals"
    label = "deals"
