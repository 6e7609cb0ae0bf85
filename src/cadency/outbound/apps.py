from django.apps import AppConfig


class OutboundConfig(AppConfig):
    name = "cadency.outbound"
    label = "outbound"
