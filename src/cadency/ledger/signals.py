"""Sent after ledger rows are written, inside the writer's transaction.

Receivers that queue work must do it in that same transaction (the database task
backend does): then work is queued exactly when the change commits.
"""

from django.dispatch import Signal

# Sent with ``events``: the list of ledger Event rows just written.
events_recorded = Signal()
