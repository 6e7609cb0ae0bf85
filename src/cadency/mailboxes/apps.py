from django.apps import AppConfig


class MailboxesConfig(AppConfig):
    name = "cadency.mailboxes"
    label = "mailboxes"
