"""One million enrollments in PostgreSQL: the due-step queries stay flat, bulk unenroll
keeps up with bare SQL, the pages stay fast.

Usage: python bench/scale.py [--sizes 10000,100000,1000000] [--active 3000]
       [--unenroll 100000] [--profile] [--quick]

Needs the loopback PostgreSQL (CADENCY_TEST_SERVICES_DIR). The history is made
with set-based SQL (``INSERT … SELECT generate_series``): per enrollment a
contact, a step run, its task row (finished a day ago: inside the retention, so the
sweep's pruning keeps it) and a ledger event; all finished or unenrolled except
``--active`` enrollments with a scheduled step (a third of them due now), the same
number at every size; VACUUM ANALYZE after each size.

(a) At each size, the queries that find due work: the worker's next-task query
    (django-tasks-db), the batch claim's due runs of a mailbox
    (``claim_companions``), the sweep's ``requeue_orphaned_runs`` and
    ``stale_run_ids`` (sending, accepted). Then the sweep: each of its steps, the
    whole of it, and one full batch of task pruning (every history task made
    older than the retention, rolled back after each run). Compared by the fastest
    of repeated runs (medians kept too), explained at the largest size. Goal: the
    largest size within 2x of the smallest (the full pruning batch only shown),
    and no sequential scan of a big table.
(c) The Enrollments tab and the Scheduled page at the largest size, as
    ``bench/pages.py`` measures them, with each page's slowest query and its
    plan. Goal: <= 150 ms.
(b) ``unenroll_many`` of ``--unenroll`` active enrollments against a bare
    ``UPDATE … SET status = 'unenrolled' WHERE id = ANY(…)`` of the same rows
    (run first, then undone), in the same run. Goal: within 2x. The SQL time of
    ``unenroll_many`` is broken down by statement; ``--profile`` adds a cProfile.
    The pages are measured again right after it, for information.
``--quick``: sizes 10,000 and 100,000, unenroll 10,000. Prints a JSON line.
"""

import argparse
import cProfile
import json
import pstats
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import GOAL_MS, measure  # noqa: E402
from bench.setup import configure, reset_postgres_database, setup_django  # noqa: E402

BIG_TABLES = (
    "contacts_contact",
    "sequences_enrollment",
    "sequences_steprun",
    "django_tasks_database_dbtaskresult",
    "ledger_event",
)
FLAT_GOAL = 2.0
UNENROLL_GOAL = 2.0
REPEATS = 30


# --- the history ----------------------------------------------------------------------


class History:
    """Grows the database by set-based inserts; remembers the ids it needs."""

    def __init__(self) -> None:
        import json as json_module

        from tests.factories import make_mailbox, make_user

        from bench.setup import ALWAYS_OPEN
        from cadency.accounts.models import Role
        from cadency.sequences.services.authoring import create_sequence
        from cadency.sequences.services.scheduling import sequence_settings_snapshot

        self.manager = make_user("boss", role=Role.MANAGER)
        self.rep = make_user("scalerep")
        self.mailbox = make_mailbox(self.rep, "rep@example.test")

        def sequence(name: str) -> Any:
            steps = [
                {"type": "automated_email", "subject": "Hello", "body": "Hi"},
                {"type": "automated_email", "delay": 3, "body": "Following up"},
            ]
            return create_sequence(
                owner=self.rep, spec={"name": name, "settings": ALWAYS_OPEN, "steps": steps}
            )

        self.big = sequence("Big outbound push")
        self.small = sequence("Small follow-up")
        self.bulk = sequence("Bulk target")
        self.settings = json_module.dumps(sequence_settings_snapshot(self.big))
        self.size = 0
        self.serial = 0

    def step_of(self, sequence: Any) -> int:
        return int(sequence.current_steps()[0].pk)

    def add(self, count: int, *, active: bool, sequence: Any | None = None) -> list[int]:
        """``count`` enrollments, each with its contact, step run, task row and event.
        History rows alternate finished/unenrolled; active ones have a scheduled step,
        a third of them due now. Returns the new enrollments' ids."""
        from django.db import connection, transaction

        first = self.serial
        self.serial += count
        params: dict[str, Any] = {
            "first": first,
            "last": first + count - 1,
            "big": self.big.pk,
            "small": self.small.pk,
            "target": sequence.pk if sequence is not None else None,
            "rep": self.rep.pk,
            "mailbox": self.mailbox.pk,
            "settings": self.settings,
            "active": active,
            "step_big": self.step_of(self.big),
            "step_small": self.step_of(self.small),
            "step_target": self.step_of(sequence) if sequence is not None else None,
        }
        with transaction.atomic(), connection.cursor() as cursor:
            for name, query in LAST_IDS.items():
                cursor.execute(query)
                row = cursor.fetchone()
                assert row is not None
                params[name] = row[0]
            for statement in INSERTS:
                cursor.execute(statement, params)
            cursor.execute(
                "SELECT id FROM sequences_enrollment WHERE id > %s ORDER BY id",
                [params["after_enrollment"]],
            )
            ids = [r[0] for r in cursor.fetchall()]
        self.size += count
        return ids


LAST_IDS = {
    "after_contact": "SELECT coalesce(max(id), 0) FROM contacts_contact",
    "after_enrollment": "SELECT coalesce(max(id), 0) FROM sequences_enrollment",
    "after_steprun": "SELECT coalesce(max(id), 0) FROM sequences_steprun",
}
INSERTS = [
    """
    INSERT INTO contacts_contact
        (email, first_name, last_name, time_zone, lifecycle_stage, properties, created_at)
    SELECT 'person' || n || '@acme.test', 'Pat', n::text, '', '', '{}', now()
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n
    """,
    """
    INSERT INTO sequences_enrollment
        (contact_id, sequence_id, sequence_version, enrolled_by_id, mailbox_id, email, status,
         reason, reason_text, evidence, current_position, send_settings, started_at, ended_at)
    SELECT c.id,
           coalesce(%(target)s, CASE WHEN c.n %% 10 = 0 THEN %(small)s ELSE %(big)s END),
           1, %(rep)s, %(mailbox)s, c.email,
           CASE WHEN %(active)s THEN 'active'
                WHEN c.n %% 2 = 0 THEN 'finished' ELSE 'unenrolled' END,
           CASE WHEN %(active)s THEN '' WHEN c.n %% 2 = 0 THEN 'finished' ELSE 'replied' END,
           '', '{}', 1, %(settings)s::jsonb,
           now() - interval '30 days' + c.n * interval '1 second',
           CASE WHEN %(active)s THEN NULL ELSE now() - interval '1 day' END
    FROM (SELECT id, email, last_name::bigint AS n FROM contacts_contact
          WHERE id > %(after_contact)s) AS c
    ORDER BY c.n
    """,
    """
    INSERT INTO sequences_steprun
        (enrollment_id, step_id, position, mailbox_id, state, due_at, attempts, message_id,
         subject, claimed_at, executed_at, sent_copy_saved, last_error, task_id, created_at)
    SELECT e.id,
           CASE WHEN e.sequence_id = %(big)s THEN %(step_big)s
                WHEN e.sequence_id = %(small)s THEN %(step_small)s
                ELSE coalesce(%(step_target)s, %(step_big)s) END,
           1, %(mailbox)s,
           CASE WHEN e.status = 'active' THEN 'scheduled'
                WHEN e.status = 'finished' THEN 'sent' ELSE 'cancelled' END,
           CASE WHEN e.status <> 'active' THEN e.started_at
                WHEN e.id %% 3 = 0 THEN now() - interval '10 seconds'
                ELSE now() + (e.id %% 5000) * interval '1 minute' END,
           CASE WHEN e.status = 'finished' THEN 1 ELSE 0 END,
           CASE WHEN e.status = 'finished' THEN '<' || e.id || '.scale@example.test>' ELSE '' END,
           CASE WHEN e.status = 'finished' THEN 'Hello' ELSE '' END,
           CASE WHEN e.status = 'finished' THEN e.started_at END,
           CASE WHEN e.status = 'finished' THEN e.started_at END,
           e.status = 'finished', '', md5('task' || e.id)::uuid, e.started_at
    FROM sequences_enrollment AS e
    WHERE e.id > %(after_enrollment)s
    """,
    """
    INSERT INTO django_tasks_database_dbtaskresult
        (id, status, args_kwargs, priority, task_path, queue_name, backend_name, run_after,
         enqueued_at, started_at, finished_at, return_value, exception_class_path, traceback,
         worker_ids)
    SELECT r.task_id,
           CASE WHEN r.state = 'scheduled' THEN 'READY' ELSE 'SUCCESSFUL' END,
           jsonb_build_object('args', jsonb_build_array(r.id), 'kwargs', '{}'::jsonb), 0,
           'cadency.sequences.tasks.run_step', 'mail', 'default', r.due_at, r.created_at,
           CASE WHEN r.state = 'scheduled' THEN NULL ELSE now() - interval '1 day' END,
           CASE WHEN r.state = 'scheduled' THEN NULL ELSE now() - interval '1 day' END,
           CASE WHEN r.state = 'scheduled' THEN NULL ELSE '"sent"'::jsonb END,
           '', '', '[]'
    FROM sequences_steprun AS r
    WHERE r.id > %(after_steprun)s
    """,
    """
    INSERT INTO ledger_event
        (occurred_at, kind, sentence, data, contact_id, enrollment_id, sequence_id)
    SELECT e.started_at, 'enrolled', 'Enrolled ' || e.email || ' (bench history).', '{}',
           e.contact_id, e.id, e.sequence_id
    FROM sequences_enrollment AS e
    WHERE e.id > %(after_enrollment)s
    """,
]


def vacuum_analyze() -> None:
    """What autovacuum would have done on a live database: fresh statistics."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in BIG_TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")


# --- (a) the due-step queries ---------------------------------------------------------


def due_step_queries(history: History) -> dict[str, Callable[[], object]]:
    """Each query that finds due work, as the product runs it."""
    from django.db import transaction
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from cadency.sequences.models import EnrollmentStatus, StepKind, StepRun, StepRunState
    from cadency.sequences.services.recovery import requeue_orphaned_runs, stale_run_ids

    def next_task() -> object:
        # django-tasks-db's worker loop (db_worker.Worker.run), without claiming.
        with transaction.atomic():
            tasks = DBTaskResult.objects.ready().filter(backend_name="default")
            return tasks.get_locked()

    def companions() -> object:
        # The candidates query of cadency.sequences.services.claiming.claim_companions.
        return list(
            StepRun.objects.filter(
                mailbox=history.mailbox,
                state=StepRunState.SCHEDULED,
                due_at__lte=timezone.now(),
                attempts=0,
                step__kind=StepKind.AUTOMATED_EMAIL,
                enrollment__status=EnrollmentStatus.ACTIVE,
            )
            .order_by("due_at")
            .values_list("pk", "enrollment_id")[:49]
        )

    return {
        "worker_next_task": next_task,
        "claim_due_runs": companions,
        "sweep_requeue_orphaned_runs": requeue_orphaned_runs,
        "sweep_stale_sending": lambda: stale_run_ids(StepRunState.SENDING),
        "sweep_stale_accepted": lambda: stale_run_ids(StepRunState.ACCEPTED),
    }


def whole_sweep() -> object:
    """The periodic sweep, all of it (every repair it looks for; none is needed here)."""
    from cadency.sequences.services.lifecycle import finish_deactivations
    from cadency.sequences.services.recovery import sweep

    return sweep(), finish_deactivations()


SWEEP_PREFIX = "sweep_step:"


def sweep_step_queries() -> dict[str, Callable[[], object]]:
    """Each step of the sweep thread on its own (``sweep_steps()`` plus what the
    worker's sweep thread runs after it), and one batch of task pruning with every
    history task past the retention, undone after each run."""
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from cadency.sequences.services.housekeeping import prune_finished_tasks, retention
    from cadency.sequences.services.lifecycle import finish_deactivations
    from cadency.sequences.services.recovery import sweep_steps

    def prune_full_batch() -> object:
        with transaction.atomic():
            later = timezone.now() + retention() + dt.timedelta(days=2)
            deleted = prune_finished_tasks(now=later)
            transaction.set_rollback(True)
        assert deleted > 0
        return deleted

    steps: dict[str, Callable[[], object]] = {
        SWEEP_PREFIX + name: step for name, step in sweep_steps()
    }
    steps[SWEEP_PREFIX + "finish_deactivations"] = finish_deactivations
    steps["prune_one_full_batch"] = prune_full_batch
    return steps


def timed(query: Callable[[], object], repeats: int = REPEATS) -> tuple[float, float]:
    """Fastest and median milliseconds of ``repeats`` runs after a warm-up. The
    fastest is the figure compared across sizes: on a shared machine it is the
    one least disturbed by other processes."""
    for _ in range(3):
        query()
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        query()
        timings.append((time.perf_counter() - started) * 1000)
    return round(min(timings), 3), round(statistics.median(timings), 3)


def plans(query: Callable[[], object]) -> list[str]:
    """EXPLAIN (no ANALYZE: nothing runs) of every SELECT and DELETE the query sends,
    captured as executed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        query()
    explained = []
    with connection.cursor() as cursor:
        for item in captured.captured_queries:
            sql = item["sql"]
            if not sql.lstrip().upper().startswith(("SELECT", "DELETE")):
                continue
            sql = re.sub(r"\s+FOR UPDATE( SKIP LOCKED)?\s*$", "", sql)
            cursor.execute("EXPLAIN " + sql)
            explained.append("\n".join(row[0] for row in cursor.fetchall()))
    return explained


def seq_scans(plan: str) -> list[str]:
    return [t for t in BIG_TABLES if re.search(rf"Seq Scan on {t}\b", plan)]


# --- (b) bulk unenroll ----------------------------------------------------------------


@contextmanager
def sql_profile() -> Iterator[dict[str, list[float]]]:
    """Wall time per kind of SQL statement (verb and first table), with counts."""
    from django.db import connection

    spent: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            words = re.findall(r'"?([a-z_]+)"?', sql.lower())
            verb = words[0] if words else "?"
            table = next((w for w in words if "_" in w and w in TABLE_NAMES), "")
            entry = spent[f"{verb} {table}".strip()]
            entry[0] += time.perf_counter() - started
            entry[1] += 1

    with connection.execute_wrapper(wrapper):
        yield spent


TABLE_NAMES = {
    "sequences_enrollment",
    "sequences_steprun",
    "sequences_task",
    "ledger_event",
    "contacts_contact",
    "sequences_sequence",
    "django_tasks_database_dbtaskresult",
    "automation_workflow",
}


def bulk_unenroll(history: History, count: int, *, profile: bool = False) -> dict[str, Any]:
    """The bare UPDATE first (then undone, untimed), then ``unenroll_many`` on the same
    rows; with ``profile``, a cProfile of ``unenroll_many`` on stderr (it slows it)."""
    from django.db import connection, transaction

    from cadency.sequences.models import Enrollment, UnenrollReason
    from cadency.sequences.services.bulk import unenroll_many

    ids = history.add(count, active=True, sequence=history.bulk)
    vacuum_analyze()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sequences_enrollment SET status = 'unenrolled', reason = 'manual', "
            "ended_at = now() WHERE id = ANY(%s)",
            [ids],
        )
    bare = time.perf_counter() - started
    with transaction.atomic(), connection.cursor() as cursor:  # undo it, untimed
        cursor.execute(
            "UPDATE sequences_enrollment SET status = 'active', reason = '', ended_at = NULL "
            "WHERE id = ANY(%s)",
            [ids],
        )
    vacuum_analyze()
    profiler = cProfile.Profile() if profile else None
    with sql_profile() as spent:
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        ended = unenroll_many(
            enrollment_ids=ids, reason=UnenrollReason.MANUAL, actor=history.manager
        )
        product = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(15)
    assert ended == count, (ended, count)
    assert not Enrollment.objects.filter(pk__in=ids, status="active").exists()
    sql_seconds = sum(seconds for seconds, _ in spent.values())
    breakdown = {
        kind: {"seconds": round(seconds, 3), "statements": n}
        for kind, (seconds, n) in sorted(spent.items(), key=lambda item: -item[1][0])
    }
    return {
        "enrollments": count,
        "unenroll_many_seconds": round(product, 3),
        "bare_update_seconds": round(bare, 3),
        "ratio": round(product / bare, 2),
        "sql_seconds": round(sql_seconds, 3),
        "python_seconds": round(product - sql_seconds, 3),
        "sql_breakdown": breakdown,
    }


# --- main -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--active", type=int, default=3000)
    parser.add_argument("--unenroll", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="up to 100,000; unenroll 10,000")
    parser.add_argument("--profile", action="store_true", help="cProfile unenroll_many")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.unenroll = "10000,100000", 10_000
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="cadency-scale-") as workdir:
        configure("postgres", Path(workdir))
        reset_postgres_database()
        setup_django()
        history = History()
        history.add(args.active, active=True)
        started = time.perf_counter()
        due = measure_due_steps(history, sizes)
        build_seconds = time.perf_counter() - started
        pages = scale_pages(history)
        unenroll = bulk_unenroll(history, args.unenroll, profile=args.profile)
        print(unenroll, file=sys.stderr)
        # For information: right after a bulk unenroll, before any vacuum (autovacuum
        # waits for 20 % of a table to change), the indexes still hold the dead rows.
        pages_after_unenroll = [
            {k: v for k, v in page.items() if k != "slowest_plan"} for page in scale_pages(history)
        ]
    rows = [
        due_step_row(due, sizes),
        sweep_row(due, sizes),
        unenroll_row(unenroll),
        pages_row(pages, sizes[-1]),
    ]
    print(
        json.dumps(
            {
                "benchmark": "scale",
                "database": "postgres",
                "sizes": sizes,
                "active": args.active,
                "build_seconds": round(build_seconds, 1),
                **due,
                "unenroll": unenroll,
                "pages": pages,
                "pages_right_after_bulk_unenroll": pages_after_unenroll,
                "rows": rows,
                "figure": "; ".join(row["figure"] for row in rows),
                "goal": "flat <= 2x, index scans; unenroll <= 2x; pages <= 150 ms",
                "met": all(row["met"] for row in rows),
            }
        )
    )


def measure_due_steps(history: History, sizes: list[int]) -> dict[str, Any]:
    """Grow the history to each size and time the due-step queries (and the whole
    sweep, for information) there; explain them at the largest size."""
    fastest: dict[str, dict[str, float]] = defaultdict(dict)
    median: dict[str, dict[str, float]] = defaultdict(dict)
    explained: dict[str, list[str]] = {}
    queries = {
        **due_step_queries(history),
        **sweep_step_queries(),
        "whole_sweep": whole_sweep,
    }
    for size in sizes:
        history.add(size - history.size, active=False)
        vacuum_analyze()
        for name, query in queries.items():
            repeats = 10 if name in ("whole_sweep", "prune_one_full_batch") else REPEATS
            fastest[name][str(size)], median[name][str(size)] = timed(query, repeats)
            explained[name] = plans(query)
        print(f"{size:,} enrollments: fastest {dict(fastest)}", file=sys.stderr)
    for name, texts in explained.items():
        print(f"-- {name}", *texts, sep="\n", file=sys.stderr)
    first, last = str(sizes[0]), str(sizes[-1])
    return {
        "due_step_fastest_ms": fastest,
        "due_step_median_ms": median,
        "due_step_ratios": {n: round(t[last] / t[first], 2) for n, t in fastest.items()},
        "seq_scans_at_largest": {
            n: sorted({t for p in ps for t in seq_scans(p)}) for n, ps in explained.items()
        },
        "plans_at_largest": explained,
    }


def is_sweep(name: str) -> bool:
    return name.startswith(SWEEP_PREFIX) or name in ("whole_sweep", "prune_one_full_batch")


def due_step_row(due: dict[str, Any], sizes: list[int]) -> dict[str, Any]:
    return flat_row("scale: due-step queries", due, sizes, lambda n: not is_sweep(n))


def sweep_row(due: dict[str, Any], sizes: list[int]) -> dict[str, Any]:
    """Every step and the whole sweep. One full batch of pruning happens only while
    a backlog lasts and deletes 1,000 rows by primary key (log n each): it must use
    index scans but is shown, not held to the ratio."""
    row = flat_row("scale: sweep", due, sizes, is_sweep)
    steady = flat_row("", due, sizes, lambda n: is_sweep(n) and n != "prune_one_full_batch")
    index_scans_only = "seq scan" not in row["figure"]
    return {**row, "ratio": steady["ratio"], "met": steady["met"] and index_scans_only}


def flat_row(
    title: str, due: dict[str, Any], sizes: list[int], chosen: Callable[[str], bool]
) -> dict[str, Any]:
    """Largest against smallest size for the chosen queries, and their seq scans."""
    first, last = str(sizes[0]), str(sizes[-1])
    ratios = {n: r for n, r in due["due_step_ratios"].items() if chosen(n)}
    scans = {n: t for n, t in due["seq_scans_at_largest"].items() if t and chosen(n)}
    times = ", ".join(
        f"{n.removeprefix(SWEEP_PREFIX)} {t[first]}→{t[last]} ms"
        for n, t in due["due_step_fastest_ms"].items()
        if chosen(n)
    )
    where = "; seq scan: " + ", ".join(f"{n} on {'/'.join(t)}" for n, t in scans.items())
    return {
        "name": title,
        "figure": f"{int(first):,}→{int(last):,} enrollments: {times}"
        + (where if scans else "; index scans only"),
        "goal": f"<= {FLAT_GOAL:.0f}x, no seq scan",
        "ratio": max(ratios.values()),
        "met": max(ratios.values()) <= FLAT_GOAL and not scans,
    }


def unenroll_row(unenroll: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "scale: bulk unenroll",
        "figure": f"unenroll_many of {unenroll['enrollments']:,}: "
        f"{unenroll['unenroll_many_seconds']} s vs bare UPDATE {unenroll['bare_update_seconds']} s",
        "goal": f"<= {UNENROLL_GOAL:.0f}x",
        "ratio": unenroll["ratio"],
        "met": unenroll["ratio"] <= UNENROLL_GOAL,
    }


def pages_row(pages: list[dict[str, Any]], size: int) -> dict[str, Any]:
    worst = max(page["ms"] for page in pages)
    return {
        "name": "scale: pages",
        "figure": f"at {size:,}: "
        + ", ".join(f"{p['url']} {p['ms']} ms ({p['queries']} q)" for p in pages),
        "goal": f"<= {GOAL_MS:.0f} ms",
        "ratio": round(worst / GOAL_MS, 2),
        "met": worst <= GOAL_MS,
    }


def scale_pages(history: History) -> list[dict[str, Any]]:
    from django.test import Client

    client = Client()
    client.force_login(history.manager)
    big = history.big.pk
    urls = [
        f"/sequences/{big}/enrollments/",
        f"/sequences/{big}/enrollments/?status=active&page=20",
        "/sequences/scheduled/",
        "/sequences/scheduled/?page=50",
    ]
    return [{**measure(client, url), **slowest_query(client, url)} for url in urls]


def slowest_query(client: Any, url: str) -> dict[str, Any]:
    """The page's slowest SQL query, its time and its plan (where a slow page spends)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    slowest = max(captured.captured_queries, key=lambda q: float(q["time"]))
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN ANALYZE " + slowest["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return {"slowest_query_ms": round(float(slowest["time"]) * 1000, 1), "slowest_plan": plan}


if __name__ == "__main__":
    main()
