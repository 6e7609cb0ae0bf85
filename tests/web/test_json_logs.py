"""CADENCY_LOG_FORMAT=json: one JSON object per console line, with the fields passed
through ``extra=``; the default stays the human format."""

import json
import logging
import os
import subprocess
import sys

from cadency.web.jsonlog import JsonFormatter

EMIT = """
import logging, django
django.setup()
log = logging.getLogger("cadency.worker")
log.info("sent %s emails", 3, extra={"mailbox": "rep@example.test", "enrollment": 42,
                                     "task_id": "8f1c"})
try:
    1 / 0
except ZeroDivisionError:
    log.exception("step run 7 failed", extra={"enrollment": 7})
"""


def run_with(log_format: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CADENCY_LOG_FORMAT"}
    env["DJANGO_SETTINGS_MODULE"] = "cadency.settings"
    if log_format is not None:
        env["CADENCY_LOG_FORMAT"] = log_format
    return subprocess.run(
        [sys.executable, "-c", EMIT], env=env, capture_output=True, text=True, timeout=60
    )


def test_json_format_writes_one_object_per_line_with_the_extra_fields() -> None:
    result = run_with("json")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2, "the traceback stays inside its line: " + result.stderr
    sent, failed = (json.loads(line) for line in lines)
    assert sent["level"] == "INFO"
    assert sent["logger"] == "cadency.worker"
    assert sent["message"] == "sent 3 emails"
    assert sent["timestamp"].endswith("+00:00")
    assert (sent["mailbox"], sent["enrollment"], sent["task_id"]) == (
        "rep@example.test",
        42,
        "8f1c",
    )
    assert "exception" not in sent
    assert failed["level"] == "ERROR"
    assert failed["enrollment"] == 7
    assert "ZeroDivisionError" in failed["exception"]


def test_the_default_format_stays_the_human_one() -> None:
    result = run_with(None)
    assert result.returncode == 0, result.stderr
    assert " INFO cadency.worker sent 3 emails" in result.stderr
    assert not any(line.startswith("{") for line in result.stderr.splitlines())


def test_an_unknown_format_is_refused_at_startup_with_its_name() -> None:
    result = run_with("xml")
    assert result.returncode != 0
    assert "CADENCY_LOG_FORMAT must be text or json, not 'xml'" in result.stderr


def test_values_json_cannot_encode_are_written_as_text() -> None:
    record = logging.makeLogRecord(
        {"name": "cadency.x", "levelname": "WARNING", "msg": "odd", "when": object()}
    )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "odd"
    assert entry["when"].startswith("<object object")
