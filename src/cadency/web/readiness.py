"""Readiness: may this process take traffic? The database answers, every migration of
this code is applied, and the task table the workers share can be read.

Each check returns None when it passes, else a short reason that is safe to show to
anyone (no host names, users or driver messages: those go to the log).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("cadency.readiness")

SHOWN_PENDING = 10


@dataclass(frozen=True)
class Readiness:
    failed: dict[str, str] = field(default_factory=dict)
    passed: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.failed


def database_answers() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        row = cursor.fetchone()
    return None if row is not None and row[0] == 1 else "the database gave no answer"


def migrations_applied() -> str | None:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return None
    names = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
    shown = ", ".join(names[:SHOWN_PENDING]) + (" …" if len(names) > SHOWN_PENDING else "")
    return f"{len(names)} migration(s) not applied: {shown} (run `cadency migrate`)"


def task_table_reachable() -> str | None:
    list(DBTaskResult.objects.order_by().values_list("pk", flat=True)[:1])
    return None


# The first check gates the others: with no database they could only fail the same way.
CHECKS: list[tuple[str, Callable[[], str | None]]] = [
    ("database", database_answers),
    ("migrations", migrations_applied),
    ("task_table", task_table_reachable),
]


def readiness() -> Readiness:
    result = Readiness()
    for name, check in CHECKS:
        if "database" in result.failed:
            result.failed[name] = "not checked: the database does not answer"
            continue
        try:
            reason = check()
        except DatabaseError as exc:
            logger.warning("readiness check %s failed: %s", name, exc, extra={"check": name})
            reason = f"the database refused the query ({type(exc).__name__})"
        if reason is None:
            result.passed.append(name)
        else:
            result.failed[name] = reason
    return result
