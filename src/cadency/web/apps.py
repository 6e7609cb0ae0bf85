from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "cadency.web"
    label = "web"
