"""/readyz: 200 only when the database answers, every migration is applied and the
task table can be read; otherwise 503 naming what failed, with no secrets. /healthz
(liveness) answers without the database."""

import json
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from django_tasks_db.models import DBTaskResult

pytestmark = pytest.mark.django_db


def readyz() -> tuple[int, dict[str, Any]]:
    response = Client().get("/readyz")
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    return response.status_code, json.loads(response.content)


def test_readyz_is_public_and_ready_when_every_check_passes() -> None:
    status, body = readyz()
    assert status == 200
    assert body == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "task_table": "ok"},
    }


def test_a_migration_not_applied_makes_the_process_not_ready_and_is_named() -> None:
    applied = MigrationRecorder.Migration.objects.filter(app="sequences").order_by("-id").first()
    assert applied is not None
    applied.delete()

    status, body = readyz()
    assert status == 503
    assert body["failed"] == ["migrations"]
    assert f"sequences.{applied.name}" in body["checks"]["migrations"]
    assert "cadency migrate" in body["checks"]["migrations"]
    assert body["checks"]["database"] == "ok"


def test_an_unreadable_task_table_makes_the_process_not_ready() -> None:
    table = DBTaskResult._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO moved_away")

    status, body = readyz()
    assert status == 503
    assert body["failed"] == ["task_table"]
    assert body["checks"]["task_table"] in {
        "the database refused the query (ProgrammingError)",  # PostgreSQL
        "the database refused the query (OperationalError)",  # SQLite
    }


def test_a_database_that_does_not_answer_is_reported_without_its_error_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse() -> None:
        raise OperationalError(
            'connection to server at "db.internal" failed: password authentication '
            'failed for user "cadency" (password=hunter2)'
        )

    monkeypatch.setattr(connection, "cursor", refuse)
    response = Client().get("/readyz")

    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["failed"] == ["database", "migrations", "task_table"]
    assert body["checks"]["database"] == "the database refused the query (OperationalError)"
    assert body["checks"]["migrations"] == "not checked: the database does not answer"
    text = response.content.decode()
    for secret in ("db.internal", "hunter2", "password"):
        assert secret not in text
    assert Client().get("/healthz").status_code == 200, "liveness does not need the database"
