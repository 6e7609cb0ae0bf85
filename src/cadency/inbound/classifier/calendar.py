"""Meeting answers: a text/calendar part with METHOD:REPLY (or COUNTER, a new time
proposed) and the attendee's PARTSTAT. A REQUEST (an invitation a person attached)
is not an answer.
"""

from __future__ import annotations

import re

from cadency.inbound.classification import Label
from cadency.inbound.classifier.parsing import Parsed, content_type, param, part_text
from cadency.inbound.classifier.verdict import Verdict

_METHOD = re.compile(r"^METHOD\s*:\s*([A-Z-]+)", re.M | re.I)
_PARTSTAT = re.compile(r"PARTSTAT=([A-Z-]+)", re.I)
ANSWER_METHODS = {"REPLY", "COUNTER"}


def _method_and_partstat(text: str) -> tuple[str, str | None]:
    try:
        from icalendar import Calendar

        calendar = Calendar.from_ical(text)
        method = str(calendar.get("METHOD", "")).upper()
        partstat = None
        for component in calendar.walk("VEVENT"):
            attendees = component.get("ATTENDEE")
            if attendees is None:
                continue
            for attendee in attendees if isinstance(attendees, list) else [attendees]:
                value = getattr(attendee, "params", {}).get("PARTSTAT")
                if value:
                    partstat = str(value).upper()
                    break
            if partstat:
                break
        return method, partstat
    except Exception:  # a calendar icalendar rejects: read the two lines ourselves
        unfolded = re.sub(r"\r?\n[ \t]", "", text)
        method_match = _METHOD.search(unfolded)
        partstat_match = _PARTSTAT.search(unfolded)
        return (
            method_match.group(1).upper() if method_match else "",
            partstat_match.group(1).upper() if partstat_match else None,
        )


def classify(parsed: Parsed) -> Verdict | None:
    for part in parsed.parts:
        ctype = content_type(part)
        param_method = param(part, "content-type", "method").upper()
        filename = ""
        if ctype == "application/ics" or ctype == "application/octet-stream":
            try:
                filename = (part.get_filename() or "").lower()
            except Exception:
                filename = ""
        if ctype != "text/calendar" and not filename.endswith(".ics"):
            continue
        if param_method and param_method not in ANSWER_METHODS:
            continue
        text = part_text(part)
        method, partstat = _method_and_partstat(text)
        method = method or param_method
        if method not in ANSWER_METHODS:
            continue
        reason = f"text/calendar METHOD:{method}"
        if partstat:
            reason += f", ATTENDEE PARTSTAT={partstat}"
        if method == "COUNTER":
            reason += " (a new time proposed)"
        return Verdict(Label.CALENDAR_REPLY, 0.97, [reason], calendar_partstat=partstat)
    return None
