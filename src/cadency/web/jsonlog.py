"""One JSON object per log line (``CADENCY_LOG_FORMAT=json``), for log shippers.

Fields: timestamp (UTC, ISO 8601), level, logger, message, then whatever the
caller passed with ``extra=`` (mailbox, enrollment, task_id, …), and the
formatted exception when there is one.
"""

import datetime as dt
import json
import logging

# Every attribute a plain LogRecord has: anything else came from ``extra=``.
STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "timestamp": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in STANDARD_ATTRIBUTES and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
