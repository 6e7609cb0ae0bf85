from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "cadency.contacts"
    label = "contacts"
