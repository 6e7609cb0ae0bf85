"""Indexes on the task table that keep the sweep's cost flat as history grows.

The table belongs to django-tasks-db, so they are plain SQL here (``IF NOT
EXISTS``: a later django-tasks-db release may add its own). Only the work in hand
and the finished tasks by age are indexed."""

from django.db import migrations

TASKS = "django_tasks_database_dbtaskresult"

# (name, table, columns, condition): the same SQL on SQLite and PostgreSQL.
INDEXES = [
    # Ready and running tasks: the sweep's lost-task, lost-reaction and lost-delivery
    # checks and the queue metrics. Holds only the work in hand, never the history.
    ("cadency_task_unfinished", TASKS, "status, started_at", "status IN ('READY', 'RUNNING')"),
    # Finished tasks by age: the pruning of tasks past their retention.
    ("cadency_task_finished", TASKS, "finished_at", "status IN ('SUCCESSFUL', 'FAILED')"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
        ("sequences", "0007_steprun_accepted_index"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns}) WHERE {condition}",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, table, columns, condition in INDEXES
    ]
