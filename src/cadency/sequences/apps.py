from django.apps import AppConfig


class SequencesConfig(AppConfig):
    name = "cadency.sequences"
    label = "sequences"
