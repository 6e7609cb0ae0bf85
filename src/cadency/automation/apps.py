from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "cadency.automation"
    label = "automation"

    def ready(self) -> None:
        from cadency.automation import dispatch

        dispatch.connect()
