"""The sweep's index migration applies and reverses cleanly (SQLite and PostgreSQL)."""

import pytest
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

BEFORE = "0007_steprun_accepted_index"
SWEEP_INDEXES = {"cadency_task_unfinished", "cadency_task_finished"}


def sweep_indexes() -> set[str]:
    with connection.cursor() as cursor:
        names = connection.introspection.get_constraints(cursor, DBTaskResult._meta.db_table)
    return set(names) & SWEEP_INDEXES


@pytest.mark.django_db(transaction=True)
def test_the_sweep_index_migration_reverses_and_applies_again() -> None:
    assert sweep_indexes() == SWEEP_INDEXES
    call_command("migrate", "sequences", BEFORE, verbosity=0)
    try:
        assert sweep_indexes() == set()
    finally:
        call_command("migrate", "sequences", verbosity=0)
    assert sweep_indexes() == SWEEP_INDEXES
