"""Unenrolling many enrollments at once (bulk actions, SPEC §4 and §7).

Each chunk is three set-based statements — end the open enrollments, cancel their
pending work, write their ledger rows from the ended rows — so 100,000 enrollments
take seconds: no row is loaded into Python except the ids and the new events'
keys; the ledger announces the new rows to automation as one uniform batch. The SQL
is put together from fixed fragments only (S608); every value is a parameter.
"""

import json
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from cadency.accounts.models import User
from cadency.ledger.services import announce_uniform
from cadency.sequences.models import (
    EnrollmentStatus,
    StepRunState,
    TaskStatus,
    UnenrollReason,
)
from cadency.sequences.models.enrollment import OPEN_STATUSES

BULK_CHUNK = 5000


def unenroll_many(
    *,
    enrollment_ids: Iterable[int],
    reason: UnenrollReason,
    actor: User | None = None,
    evidence: dict[str, Any] | None = None,
) -> int:
    """Unenroll many enrollments at once. Returns how many ended.

    Callers filter the ids by what the actor may act on. Already-ended
    enrollments are skipped, so repeating the call changes nothing. Each chunk
    commits on its own: an interrupted call can simply be repeated.
    """
    ids = sorted(set(enrollment_ids))
    ended = 0
    for offset in range(0, len(ids), BULK_CHUNK):
        ended += _unenroll_chunk(ids[offset : offset + BULK_CHUNK], reason, actor, evidence)
    return ended


def _unenroll_chunk(
    ids: list[int], reason: UnenrollReason, actor: User | None, evidence: dict[str, Any] | None
) -> int:
    now = timezone.now()
    when = f"{now:%Y-%m-%d %H:%M} UTC"
    by = actor.display_name if actor else "Cadency"
    actor_id = actor.pk if actor else None
    with transaction.atomic(), connection.cursor() as cursor:
        ended_ids = _end_open_enrollments(
            cursor,
            ids,
            reason=reason,
            sentence=f"{by} unenrolled this contact in bulk ({reason.label}) on {when}.",
            evidence={**(evidence or {}), "bulk": True},
            now=now,
            actor_id=actor_id,
        )
        if not ended_ids:
            return 0
        _cancel_pending_work(cursor, ended_ids)
        data = {"reason": reason.value, "bulk": True, "evidence": evidence or {}}
        event_ids = _write_ledger_rows(
            cursor,
            ended_ids,
            now=now,
            actor_id=actor_id,
            sentence_parts=(f"{by} unenrolled ", f" in bulk ({reason.label}) on {when}."),
            data=data,
        )
        announce_uniform("unenrolled", data, event_ids)
    return len(ended_ids)


def _end_open_enrollments(
    cursor: Any,
    ids: list[int],
    *,
    reason: UnenrollReason,
    sentence: str,
    evidence: dict[str, Any],
    now: Any,
    actor_id: int | None,
) -> list[int]:
    """The UPDATE locks each row and re-checks its status, so an enrollment ended
    meanwhile by a reply or another user keeps its first reason."""
    in_ids, id_params = _id_list("id", ids)
    open_marks = ", ".join(["%s"] * len(OPEN_STATUSES))
    cursor.execute(
        "UPDATE sequences_enrollment SET status = %s, reason = %s, reason_text = %s, "  # noqa: S608
        f"evidence = {_json_param()}, ended_at = %s, ended_by_id = %s "
        f"WHERE {in_ids} AND status IN ({open_marks}) RETURNING id",
        [
            EnrollmentStatus.UNENROLLED.value,
            reason.value,
            sentence,
            json.dumps(evidence),
            connection.ops.adapt_datetimefield_value(now),
            actor_id,
            *id_params,
            *(status.value for status in OPEN_STATUSES),
        ],
    )
    return sorted(row[0] for row in cursor.fetchall())


def _cancel_pending_work(cursor: Any, enrollment_ids: list[int]) -> None:
    """Scheduled step runs and open tasks; a send already in flight finishes."""
    in_ids, id_params = _id_list("enrollment_id", enrollment_ids)
    cursor.execute(
        "UPDATE sequences_task SET status = %s WHERE status = %s AND step_run_id IN "  # noqa: S608
        f"(SELECT id FROM sequences_steprun WHERE {in_ids})",
        [TaskStatus.CANCELLED.value, TaskStatus.OPEN.value, *id_params],
    )
    cursor.execute(
        f"UPDATE sequences_steprun SET state = %s WHERE {in_ids} AND state = %s",  # noqa: S608
        [StepRunState.CANCELLED.value, *id_params, StepRunState.SCHEDULED.value],
    )


def _write_ledger_rows(
    cursor: Any,
    enrollment_ids: list[int],
    *,
    now: Any,
    actor_id: int | None,
    sentence_parts: tuple[str, str],
    data: dict[str, Any],
) -> list[int]:
    """One ``unenrolled`` row per ended enrollment, written from the rows themselves."""
    in_ids, id_params = _id_list("e.id", enrollment_ids)
    before, after = sentence_parts
    data_json = json.dumps(data)
    cursor.execute(
        "INSERT INTO ledger_event (occurred_at, kind, contact_id, enrollment_id, sequence_id, "  # noqa: S608
        "actor_id, sentence, data) "
        "SELECT %s, %s, e.contact_id, e.id, e.sequence_id, %s, "
        f"%s || e.email || ' from «' || s.name || '»' || %s, {_json_param()} "
        "FROM sequences_enrollment AS e JOIN sequences_sequence AS s ON s.id = e.sequence_id "
        f"WHERE {in_ids} ORDER BY e.id "
        "RETURNING id",
        [
            connection.ops.adapt_datetimefield_value(now),
            "unenrolled",
            actor_id,
            before,
            after,
            data_json,
            *id_params,
        ],
    )
    return [row[0] for row in cursor.fetchall()]


def _id_list(column: str, ids: list[int]) -> tuple[str, list[Any]]:
    """``column`` is one of ``ids``, with the whole list as one parameter."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])", ["{" + ",".join(map(str, ids)) + "}"]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(ids)]  # noqa: S608


def _json_param() -> str:
    return "%s::jsonb" if connection.vendor == "postgresql" else "%s"
