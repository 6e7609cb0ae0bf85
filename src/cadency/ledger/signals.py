"""Sent after ledger rows are written, inside the writer's transaction.

Receivers that queue work must do it in that same transaction (the database task
backend does): then work is queued exactly when the change commits.
"""

from django.dispatch import Signal

# Sent with ``events``: the list of ledger Event rows just written.
events_recorded = Signal()

# Sent with ``kind``, ``data`` and ``event_ids`` after a bulk write of many rows that
# differ only in whom they concern (e.g. 100,000 ``unenrolled`` rows): what a
# receiver decides from an event's kind and data it decides once.
uniform_events_recorded = Signal()
