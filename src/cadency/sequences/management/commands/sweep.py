import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from cadency.sequences.services.recovery import sweep


class Command(BaseCommand):
    help = "Run the repair sweep once: re-queue lost tasks, resolve interrupted sends."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        report = vars(sweep())
        if options["json"]:
            self.stdout.write(json.dumps(report))
        else:
            self.stdout.write(", ".join(f"{k}: {v}" for k, v in report.items()))
