import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cadency.inbound.classification import Classification
from cadency.inbound.classifier import UnparseableMessage, classify_message


def classification_data(name: str, result: Classification) -> dict[str, Any]:
    return {
        "file": name,
        "label": str(result.label),
        "confidence": result.confidence,
        "reasons": result.reasons,
        "failed_recipients": [
            {"address": f.address, "status": f.status, "action": f.action}
            for f in result.failed_recipients
        ],
        "return_date": result.return_date.isoformat() if result.return_date else None,
        "flags": sorted(str(flag) for flag in result.flags),
        "original_message_id": result.original_message_id,
        "calendar_partstat": result.calendar_partstat,
        "classifier_version": result.classifier_version,
    }


def error_data(name: str, reason: str) -> dict[str, Any]:
    return {
        "file": name,
        "label": "error",
        "confidence": 0.0,
        "reasons": [reason],
        "failed_recipients": [],
        "return_date": None,
    }


class Command(BaseCommand):
    help = "Classify raw RFC 5322 messages (files, or - for standard input)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="a raw message, or -")
        parser.add_argument("--json", action="store_true", help="one JSON object per line")

    def handle(self, *args: Any, **options: Any) -> None:
        errors = 0
        for name in options["files"]:
            data = self.classify_one(name)
            errors += data["label"] == "error"
            if options["json"]:
                self.stdout.write(json.dumps(data, ensure_ascii=False))
            else:
                self.stdout.write(readable(data))
        if errors:
            raise CommandError(f"{errors} of {len(options['files'])} could not be classified")

    def classify_one(self, name: str) -> dict[str, Any]:
        try:
            raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
        except OSError as error:
            return error_data(name, f"cannot read: {error.strerror or error}")
        try:
            return classification_data(name, classify_message(raw))
        except UnparseableMessage as error:
            return error_data(name, f"cannot parse: {error}")


def readable(data: dict[str, Any]) -> str:
    line = f"{data['file']}: {data['label']}"
    if data["label"] != "error":
        line += f" ({data['confidence']:.2f})"
    if data["failed_recipients"]:
        line += " — failed: " + ", ".join(
            f"{f['address']} {f['status']}".strip() for f in data["failed_recipients"]
        )
    if data["return_date"]:
        line += f" — back {data['return_date']}"
    if data.get("flags"):
        line += " — " + ", ".join(data["flags"])
    return f"{line}\n    " + "\n    ".join(data["reasons"])
