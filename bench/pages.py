"""Server time and SQL query count of the Enrollments and Scheduled pages over 100,000 enrollments.

Usage: python bench/pages.py [--enrollments 100000] [--database sqlite|postgres]
Builds the history with bulk inserts (most enrollments finished or unenrolled,
a quarter active with a scheduled step), then requests each page through
Django's test client as a signed-in manager: the median of 15 requests after a
warm-up, and the number of SQL queries per page. Goal: ≤ 150 ms per page, and
the same number of queries whatever the number of rows.
"""

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.setup import configure, reset_postgres_database, setup_django  # noqa: E402

GOAL_MS = 150.0
BATCH = 5000
REQUESTS = 15


def build_history(total: int) -> dict[str, Any]:
    from django.utils import timezone
    from tests.factories import make_mailbox, make_sequence, make_user

    from cadency.accounts.models import Role
    from cadency.contacts.models import Contact
    from cadency.sequences.models import (
        Enrollment,
        EnrollmentStatus,
        StepRun,
        StepRunState,
        UnenrollReason,
    )
    from cadency.sequences.services.scheduling import sequence_settings_snapshot

    manager = make_user("boss", role=Role.MANAGER)
    rep = make_user("benchrep")
    mailbox = make_mailbox(rep, "rep@example.test")
    big = make_sequence(rep, name="Big outbound push")
    small = make_sequence(rep, name="Small follow-up")
    steps = {sequence.pk: list(sequence.current_steps()) for sequence in (big, small)}
    now = timezone.now()
    made = 0
    while made < total:
        count = min(BATCH, total - made)
        contacts = Contact.objects.bulk_create(
            Contact(email=f"person{made + i:07d}@acme.test", first_name="Pat", last_name=str(i))
            for i in range(count)
        )
        enrollments = []
        for i, contact in enumerate(contacts):
            n = made + i
            sequence = big if n % 10 else small
            status, reason = (
                (EnrollmentStatus.ACTIVE, "")
                if n % 4 == 0
                else (EnrollmentStatus.FINISHED, UnenrollReason.FINISHED)
                if n % 4 == 1
                else (EnrollmentStatus.UNENROLLED, UnenrollReason.REPLIED)
            )
            enrollments.append(
                Enrollment(
                    contact=contact,
                    sequence=sequence,
                    sequence_version=1,
                    enrolled_by=rep,
                    mailbox=mailbox,
                    email=contact.email,
                    status=status,
                    reason=reason,
                    current_position=1,
                    send_settings=sequence_settings_snapshot(sequence),
                    started_at=now - dt.timedelta(days=30, minutes=n),
                    ended_at=None if status == EnrollmentStatus.ACTIVE else now,
                )
            )
        Enrollment.objects.bulk_create(enrollments)
        StepRun.objects.bulk_create(
            StepRun(
                enrollment=e,
                step=steps[e.sequence_id][0],
                position=1,
                mailbox=mailbox,
                state=StepRunState.SCHEDULED
                if e.status == EnrollmentStatus.ACTIVE
                else StepRunState.SENT,
                due_at=now + dt.timedelta(minutes=(made + i) % 5000),
            )
            for i, e in enumerate(enrollments)
        )
        made += count
    return {"manager": manager, "big": big}


def measure(client: Any, url: str) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    timings = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    median = statistics.median(timings)
    return {"url": url, "ms": round(median, 1), "queries": len(queries)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--enrollments", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cadency-pages-") as workdir:
        configure(args.database, Path(workdir))
        if args.database == "postgres":
            reset_postgres_database()
        setup_django()
        from django.test import Client

        started = time.perf_counter()
        made = build_history(args.enrollments)
        print(f"history built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        client = Client()
        client.force_login(made["manager"])
        big = made["big"].pk
        pages = [
            measure(client, f"/sequences/{big}/enrollments/"),
            measure(client, f"/sequences/{big}/enrollments/?status=active&page=20"),
            measure(client, "/sequences/scheduled/"),
            measure(client, "/sequences/scheduled/?page=50"),
        ]
    for page in pages:
        print(page, file=sys.stderr)
    worst = max(page["ms"] for page in pages)
    print(
        json.dumps(
            {
                "benchmark": "pages",
                "database": args.database,
                "enrollments": args.enrollments,
                "pages": pages,
                "figure": f"worst page {worst} ms; queries "
                + "/".join(str(p["queries"]) for p in pages),
                "goal": f"<= {GOAL_MS:.0f} ms",
                "ratio": round(worst / GOAL_MS, 2),
                "met": worst <= GOAL_MS and len({p["queries"] for p in pages}) == 1,
            }
        )
    )


if __name__ == "__main__":
    main()
