from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "cadency.ledger"
    label = "ledger"
