"""Keeping the task table the size of the work in hand: background tasks that
finished (successfully or not) more than ``CADENCY_TASK_RETENTION_DAYS`` ago are
deleted by the sweep, one bounded batch per sweep.

Nothing reads a finished task row once it is done: the ledger, the reports and the
pages are written from Cadency's own tables, and a step run whose task row is gone
is treated like one whose task finished (the sweep queues it again if it is still
due). A task that is ready or running is never deleted."""

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection, transaction
from django.db.models import BooleanField, F, Func, Q, QuerySet, Subquery
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

FINISHED = (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED)
DEFAULT_RETENTION_DAYS = 7
PRUNE_BATCH = 1000


def retention() -> dt.timedelta:
    days = getattr(settings, "CADENCY_TASK_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
    return dt.timedelta(days=days)


def prune_finished_tasks(*, now: dt.datetime | None = None, batch: int = PRUNE_BATCH) -> int:
    """Delete up to ``batch`` of the oldest finished tasks past the retention; returns
    how many went. One statement: the batch is chosen by the finished-task index and
    deleted by primary key. Every worker's sweep calls this: rows another sweep is
    deleting are skipped, not waited for."""
    cutoff = (now or timezone.now()) - retention()
    expired = (
        DBTaskResult.objects.filter(status__in=FINISHED, finished_at__lt=cutoff)
        .order_by("finished_at")
        .select_for_update(skip_locked=True)
        .values("pk")[:batch]
    )
    with transaction.atomic():
        deleted, _ = DBTaskResult.objects.filter(one_of(expired), status__in=FINISHED).delete()
    return deleted


def one_of(ids: QuerySet[Any, Any]) -> Q:
    """``id = ANY(ARRAY(…))`` on PostgreSQL: the planner then probes the primary key
    whatever the table's size (given ``id IN (…)`` of a thousand rows it reads a
    table of a hundred thousand whole)."""
    if connection.vendor == "postgresql":
        return Q(EqualsAny(F("pk"), ArraySubquery(ids)))
    return Q(pk__in=Subquery(ids))


class EqualsAny(Func):
    """``column = ANY(array)``."""

    template = "%(expressions)s)"
    arg_joiner = " = ANY("
    output_field = BooleanField()
