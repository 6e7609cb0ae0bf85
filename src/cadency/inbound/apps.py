from django.apps import AppConfig


class InboundConfig(AppConfig):
    name = "cadency.inbound"
    label = "inbound"
