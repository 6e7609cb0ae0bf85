"""Editing a sequence's sending settings (the Settings tab, SPEC §1 "Sequence").

New enrollments take a snapshot of these settings (``scheduling.sequence_settings_snapshot``);
open enrollments keep theirs, so a change affects new enrollments only (SPEC §2.4).
"""

import datetime as dt
from typing import Any

from django.db import transaction

from cadency.accounts.models import User
from cadency.accounts.permissions import check_may_manage_sequence
from cadency.ledger.services import record_event
from cadency.sequences.models import Sequence

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
FLAGS = {
    "business_days_only": "business days only",
    "thread_follow_ups": "thread follow-ups",
    "unenroll_same_company": "same-company rule",
    "pause_on_out_of_office": "pause on out-of-office",
    "track_clicks": "click tracking",
    "track_opens": "open tracking",
}
EDITABLE = ("send_window_start", "send_window_end", "send_days", *FLAGS)


class SettingsError(ValueError):
    """A change that cannot be made; the message says which setting and why."""


def _checked(field: str, value: Any) -> Any:
    if field in ("send_window_start", "send_window_end"):
        if not isinstance(value, dt.time):
            raise SettingsError(f"{field}: expected a time of day, got {value!r}")
        return value.replace(microsecond=0, tzinfo=None)
    if field == "send_days":
        if not isinstance(value, list | tuple | set) or not value:
            raise SettingsError("send_days: choose at least one day")
        if any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in value):
            raise SettingsError(f"send_days: days are 0 (Monday) to 6 (Sunday), got {value!r}")
        return sorted(set(value))
    if not isinstance(value, bool):
        raise SettingsError(f"{field}: expected true or false, got {value!r}")
    return value


def _shown(field: str, value: Any) -> str:
    if isinstance(value, dt.time):
        return f"{value:%H:%M}"
    if field == "send_days":
        return ", ".join(DAY_NAMES[d] for d in value)
    return "on" if value else "off"


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.time) else value


def update_settings(*, sequence: Sequence, actor: User, **changes: Any) -> list[str]:
    """Apply the changed settings and record them in the ledger; returns the fields changed.

    Only the owner, a manager or an admin may (PermissionDenied otherwise). Values
    equal to the current ones are not changes; no change writes nothing.
    """
    check_may_manage_sequence(actor, sequence)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise SettingsError(f"not a setting you can change here: {', '.join(unknown)}")
    wanted = {field: _checked(field, value) for field, value in changes.items()}
    with transaction.atomic():
        locked = Sequence.objects.select_for_update().get(pk=sequence.pk)
        if locked.archived_at is not None:
            raise SettingsError(f"«{locked.name}» was deleted; its settings cannot change")
        before = {field: getattr(locked, field) for field in EDITABLE}
        after = {**before, **wanted}
        if after["send_window_start"] >= after["send_window_end"]:
            raise SettingsError("send window: the start must be before the end")
        changed = [field for field in EDITABLE if after[field] != before[field]]
        if not changed:
            return []
        for field in changed:
            setattr(locked, field, after[field])
        locked.save(update_fields=changed)
        described = "; ".join(
            f"{FLAGS.get(field, field.replace('_', ' '))} "
            f"{_shown(field, before[field])} → {_shown(field, after[field])}"
            for field in changed
        )
        record_event(
            kind="sequence_settings_changed",
            sequence=locked,
            actor=actor,
            sentence=(
                f"{actor.display_name} changed the settings of «{locked.name}»: {described}. "
                "New enrollments use them; open enrollments keep theirs."
            ),
            data={
                "changes": {
                    field: {"from": _json(before[field]), "to": _json(after[field])}
                    for field in changed
                }
            },
        )
    sequence.refresh_from_db()
    return changed
