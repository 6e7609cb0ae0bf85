import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from cadency.inbound.watcher import watch_all


class Command(BaseCommand):
    help = "Watch every mailbox with IMAP IDLE; each mailbox is held by one watcher at a time."

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = threading.Event()

        def stop(signum: int, frame: object) -> None:
            stopping.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        watch_all(stopping)
