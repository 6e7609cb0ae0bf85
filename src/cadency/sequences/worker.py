"""The worker process: django-tasks-db's worker loop plus the periodic sweep, calendar
sync and re-test of failing mailboxes."""

import logging
import os
import socket
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django_tasks_db.management.commands.db_worker import Worker

from cadency.calendars.periodic import CalendarSyncThread
from cadency.mailboxes.periodic import MailboxRetestThread
from cadency.sequences.services.lifecycle import finish_deactivations
from cadency.sequences.services.recovery import sweep

logger = logging.getLogger("cadency.worker")


class SweepThread(threading.Thread):
    """Runs the sweep every few seconds in its own database connection."""

    def __init__(self, interval: float) -> None:
        super().__init__(name="cadency-sweep", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            close_old_connections()
            try:
                report = sweep()
                if any(vars(report).values()):
                    logger.info("sweep: %s", report)
                ended = finish_deactivations()
                if ended:
                    logger.info("sweep: %s enrollments of deactivated users ended", ended)
            except Exception:
                logger.exception("sweep failed; it will run again")
        connection.close()


def run_worker(*, interval: float = 0.2, sweep_interval: float | None = None) -> None:
    sweeper = SweepThread(sweep_interval or settings.CADENCY_SWEEP_INTERVAL_SECONDS)
    sweeper.start()
    calendar_sync = CalendarSyncThread()
    calendar_sync.start()
    mailbox_retest = MailboxRetestThread()
    mailbox_retest.start()
    worker = Worker(
        queue_names=["*"],
        interval=interval,
        batch=False,
        backend_name="default",
        startup_delay=True,
        max_tasks=None,
        worker_id=f"{socket.gethostname()}-{os.getpid()}"[:64],
        excluded_queue_names=[],
    )
    worker.configure_signals()
    try:
        worker.run()
    finally:
        sweeper.stopped.set()
        calendar_sync.stopped.set()
        mailbox_retest.stopped.set()
