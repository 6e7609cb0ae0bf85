from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from cadency.sequences.worker import run_worker


class Command(BaseCommand):
    help = "Run the background worker: due steps, Sent-folder copies and the periodic sweep."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=0.2,
            help="seconds between polls when idle (default 0.2)",
        )
        parser.add_argument(
            "--sweep-interval",
            type=float,
            default=None,
            help="seconds between sweeps (default CADENCY_SWEEP_INTERVAL_SECONDS)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        run_worker(interval=options["interval"], sweep_interval=options["sweep_interval"])
