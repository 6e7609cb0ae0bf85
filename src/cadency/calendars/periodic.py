"""The worker's calendar sync: every connection is read again every
CADENCY_CALENDAR_SYNC_SECONDS (see ``sync.due_connections``)."""

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection

from cadency.calendars.sync import sync_due_connections

logger = logging.getLogger("cadency.calendars")


class CalendarSyncThread(threading.Thread):
    """Looks for due connections a few times per interval, in its own database connection."""

    def __init__(self, interval: float | None = None) -> None:
        super().__init__(name="cadency-calendar-sync", daemon=True)
        self.interval = float(interval or settings.CADENCY_CALENDAR_SYNC_SECONDS)
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(max(1.0, self.interval / 4)):
            close_old_connections()
            try:
                sync_due_connections()
            except Exception:
                logger.exception("calendar sync failed; it will run again")
        connection.close()
