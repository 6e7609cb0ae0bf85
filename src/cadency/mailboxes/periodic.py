"""The worker's re-test of failing mailboxes, so that a server or password fixed
outside Cadency is noticed without anyone pressing "Test the connection"."""

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Q, QuerySet

from cadency.mailboxes.models import Health, Mailbox
from cadency.mailboxes.services import check_mailbox

logger = logging.getLogger("cadency.mailboxes")


def mailboxes_to_retest() -> QuerySet[Mailbox]:
    """Failing mailboxes, and any with enrollments still paused for a failure."""
    return (
        Mailbox.objects.filter(
            Q(health=Health.FAILING)
            | Q(smtp_failures__gt=0)
            | Q(imap_failures__gt=0)
            | Q(pauses__done=False)
        )
        .distinct()
        .order_by("pk")
    )


def retest_failing_mailboxes() -> int:
    """Test each failing mailbox once (its results are counted and acted on by
    ``check_mailbox``); returns how many now pass. Healthy ones cost nothing."""
    passed = 0
    for mailbox in mailboxes_to_retest():
        try:
            passed += check_mailbox(mailbox, via="periodic re-test").ok
        except Exception:
            logger.exception("re-testing the mailbox %s failed", mailbox.email)
    return passed


class MailboxRetestThread(threading.Thread):
    """Re-tests failing mailboxes every CADENCY_MAILBOX_RETEST_SECONDS."""

    def __init__(self, interval: float | None = None) -> None:
        super().__init__(name="cadency-mailbox-retest", daemon=True)
        self.interval = float(interval or settings.CADENCY_MAILBOX_RETEST_SECONDS)
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            close_old_connections()
            try:
                retest_failing_mailboxes()
            except Exception:
                logger.exception("the mailbox re-test failed; it will run again")
        connection.close()
