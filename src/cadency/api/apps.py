from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "cadency.api"
    label = "api"
    verbose_name = "REST API"
