from django.apps import AppConfig


class SidebarConfig(AppConfig):
    name = "cadency.sidebar"
    label = "sidebar"
    verbose_name = "Mail-client sidebar"
