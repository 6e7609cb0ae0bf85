from django.urls import path  # noqa: F401

app_name = "inbound"
urlpatterns: list = []  # type: ignore[type-arg]
