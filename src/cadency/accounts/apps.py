from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cadency.accounts"
    label = "accounts"
