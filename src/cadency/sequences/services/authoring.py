"""Creating and editing sequences from a plain description (YAML/JSON, API, pages).

Editing the steps writes a new version; enrollments keep the version they
started with, so edits affect new enrollments only (SPEC §2.4).
"""

import datetime as dt
from typing import Any

from django.db import transaction

from cadency.accounts.models import User
from cadency.ledger.services import record_event
from cadency.sequences.models import DelayUnit, Sequence, Step, StepKind
from cadency.sequences.services.templates import TemplateError, check_template

DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
SETTINGS_KEYS = {
    "send_window",
    "send_days",
    "business_days_only",
    "thread_follow_ups",
    "unenroll_same_company",
    "task_reminders",
    "pause_on_out_of_office",
    "track_clicks",
    "track_opens",
}
STEP_KEYS = {
    "type",
    "delay",
    "delay_unit",
    "subject",
    "body",
    "thread_as_reply",
    "pause_until_complete",
    "title",
}


class SequenceSpecError(ValueError):
    """The description of a sequence is invalid; the message says where and why."""


def _time(value: Any, where: str) -> dt.time:
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError as exc:
        raise SequenceSpecError(f"{where}: {value!r} is not a time like 08:30") from exc


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise SequenceSpecError(f"{where}: expected true or false, got {value!r}")
    return value


def parse_settings(raw: dict[str, Any]) -> dict[str, Any]:
    unknown = set(raw) - SETTINGS_KEYS
    if unknown:
        raise SequenceSpecError(f"settings: unknown keys {sorted(unknown)}")
    parsed: dict[str, Any] = {}
    if "send_window" in raw:
        window = raw["send_window"]
        if not isinstance(window, list) or len(window) != 2:
            raise SequenceSpecError('settings.send_window: expected ["08:00", "18:00"]')
        start = _time(window[0], "settings.send_window")
        end = _time(window[1], "settings.send_window")
        if start >= end:
            raise SequenceSpecError("settings.send_window: the start must be before the end")
        parsed["send_window_start"], parsed["send_window_end"] = start, end
    if "send_days" in raw:
        days = raw["send_days"]
        if not isinstance(days, list) or not days:
            raise SequenceSpecError("settings.send_days: expected a non-empty list like [mon, tue]")
        try:
            parsed["send_days"] = sorted({DAY_NAMES.index(str(d).lower()[:3]) for d in days})
        except ValueError as exc:
            raise SequenceSpecError(f"settings.send_days: unknown day in {days!r}") from exc
    for key in SETTINGS_KEYS - {"send_window", "send_days"}:
        if key in raw:
            parsed[key] = _bool(raw[key], f"settings.{key}")
    return parsed


def parse_step(raw: Any, position: int) -> Step:
    where = f"step {position}"
    if not isinstance(raw, dict):
        raise SequenceSpecError(f"{where}: expected a mapping")
    unknown = set(raw) - STEP_KEYS
    if unknown:
        raise SequenceSpecError(f"{where}: unknown keys {sorted(unknown)}")
    try:
        kind = StepKind(raw.get("type", ""))
    except ValueError as exc:
        choices = ", ".join(StepKind.values)
        raise SequenceSpecError(f"{where}.type: expected one of {choices}") from exc
    delay = raw.get("delay", 0)
    if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0:
        raise SequenceSpecError(f"{where}.delay: expected a whole number of days ≥ 0")
    try:
        unit = DelayUnit(raw.get("delay_unit", DelayUnit.DAYS))
    except ValueError as exc:
        raise SequenceSpecError(f"{where}.delay_unit: expected days or business_days") from exc
    subject = str(raw.get("subject", ""))
    body = str(raw.get("body", ""))
    title = str(raw.get("title", ""))
    for field, text, limit in (("subject", subject, 500), ("title", title, 300)):
        if len(text) > limit:
            raise SequenceSpecError(f"{where}.{field}: longer than {limit} characters")
    if kind == StepKind.AUTOMATED_EMAIL and not body.strip():
        raise SequenceSpecError(f"{where}.body: an automated email needs a body")
    if kind == StepKind.AUTOMATED_EMAIL and position == 1 and not subject.strip():
        raise SequenceSpecError(f"{where}.subject: the first email needs a subject")
    for field, text in (("subject", subject), ("body", body), ("title", title)):
        try:
            check_template(text)
        except TemplateError as exc:
            raise SequenceSpecError(f"{where}.{field}: {exc}") from exc
    return Step(
        position=position,
        kind=kind,
        delay=delay,
        delay_unit=unit,
        subject=subject,
        body=body,
        thread_as_reply=_bool(raw.get("thread_as_reply", True), f"{where}.thread_as_reply"),
        pause_until_complete=_bool(
            raw.get("pause_until_complete", False), f"{where}.pause_until_complete"
        ),
        task_title=title,
    )


def parse_steps(raw: Any) -> list[Step]:
    if not isinstance(raw, list) or not raw:
        raise SequenceSpecError("steps: expected a non-empty list of steps")
    return [parse_step(item, index) for index, item in enumerate(raw, start=1)]


def create_sequence(*, owner: User, spec: dict[str, Any]) -> Sequence:
    if not isinstance(spec, dict):
        raise SequenceSpecError("expected a mapping with name, settings and steps")
    unknown = set(spec) - {"name", "settings", "steps"}
    if unknown:
        raise SequenceSpecError(f"unknown keys {sorted(unknown)}")
    name = str(spec.get("name", "")).strip()
    if not name:
        raise SequenceSpecError("name: a sequence needs a name")
    if len(name) > 200:
        raise SequenceSpecError("name: longer than 200 characters")
    settings_raw = spec.get("settings", {}) or {}
    if not isinstance(settings_raw, dict):
        raise SequenceSpecError("settings: expected a mapping")
    fields = parse_settings(settings_raw)
    steps = parse_steps(spec.get("steps"))
    with transaction.atomic():
        sequence = Sequence.objects.create(name=name, owner=owner, **fields)
        for step in steps:
            step.sequence = sequence
            step.version = 1
        Step.objects.bulk_create(steps)
        record_event(
            kind="sequence_created",
            sequence=sequence,
            actor=owner,
            sentence=f"{owner.display_name} created «{name}» with {len(steps)} steps.",
        )
    return sequence


def replace_steps(*, sequence: Sequence, steps_spec: Any, actor: User) -> Sequence:
    """Write a new version of the steps; open enrollments keep theirs."""
    steps = parse_steps(steps_spec)
    with transaction.atomic():
        locked = Sequence.objects.select_for_update().get(pk=sequence.pk)
        locked.current_version += 1
        locked.save(update_fields=["current_version"])
        for step in steps:
            step.sequence = locked
            step.version = locked.current_version
        Step.objects.bulk_create(steps)
        record_event(
            kind="sequence_edited",
            sequence=locked,
            actor=actor,
            sentence=f"{actor.display_name} edited the steps of «{locked.name}» "
            f"(version {locked.current_version}); new enrollments use it.",
        )
    sequence.refresh_from_db()
    return sequence
