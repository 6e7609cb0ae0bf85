"""Crash safety (SPEC §7): kill -9 in a burst, an SMTP outage, a Dovecot restart.

Usage: python bench/crash.py [--sends 1000] [--kills 5] [--workers 2]
       [--smtp-outage 60] [--replies 10] [--sent-copy provider|append|none] [--quick]

Needs the loopback services (CADENCY_TEST_SERVICES_DIR); runs on PostgreSQL.

1. Kill: N due sends, each to its own address (contactNNN+tag@acme.test);
   real `cadency worker` processes; a worker is killed with SIGKILL at random
   points of the burst and a new one started each time. When no step is left to
   do, the Message-IDs in the recipients' Maildirs are counted against the step
   runs: duplicates and missing, goal 0 and 0.
2. SMTP outage: the same burst, Postfix stopped for ``--smtp-outage`` seconds
   in the middle of it: 0 duplicates, 0 missing afterwards.
3. Dovecot restart under a `cadency watch`: replies delivered before, during
   and after the restart are each processed exactly once (one InboundMessage per
   Message-ID, one unenrollment per enrollment), and a reply sent right after
   Dovecot is up is processed within 5 s (the recovery time).

``--sent-copy provider`` (the default) makes the loopback server file a copy of
every sent message in the rep's Sent folder, as Gmail and Microsoft 365 do:
that folder is the witness the sweep reads after a crash. With ``append``
(Cadency files the copy itself, after recording the send) or ``none`` there is
no witness for a message accepted just before the crash.
Prints a JSON line with one row per scenario.
"""

import argparse
import datetime as dt
import json
import os
import random
import smtplib
import sys
import tempfile
import time
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from email.message import EmailMessage
from email.utils import make_msgid
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.mailstack import mailstack_or_none  # noqa: E402

from bench.harness import (  # noqa: E402
    FAST_RECOVERY,
    Process,
    delivered,
    maildirs,
    provider_files_sent_mail,
    service,
    start_cadency,
    stop_all,
    wait_for_empty_queue,
    wait_until,
)
from bench.setup import (  # noqa: E402
    always_open_sequence,
    configure,
    rep_with_mailbox,
    reset_postgres_database,
    setup_django,
)

REP = "rep@example.test"
RECOVERY_LIMIT = 5.0


class Bench:
    """One run: the rep, the workers' settings, where their logs go, the dice."""

    def __init__(self, rep: Any, env: dict[str, str], logs: Path, seed: int) -> None:
        self.rep = rep
        self.env = env
        self.logs = logs
        self.random = random.Random(seed)

    def worker(self) -> Process:
        return start_cadency("worker", self.env, self.logs / "workers.log", "--interval", "0.05")


# --- the burst ----------------------------------------------------------------------


def burst(bench: Bench, tag: str, count: int) -> Any:
    """A one-step sequence with ``count`` enrollments whose step is parked a day ahead."""
    from django.db import transaction
    from django.utils import timezone

    from cadency.contacts.models import Contact
    from cadency.sequences.services.enrollment import enroll

    sequence = always_open_sequence(
        bench.rep,
        f"Burst {tag}",
        [{"type": "automated_email", "subject": "Hello {{ contact.first_name }}", "body": "Hi"}],
    )
    parked = timezone.now() + dt.timedelta(days=1)
    with transaction.atomic():
        for n in range(count):
            contact = Contact.objects.create(
                email=f"contact{n % 100 + 1:03d}+{tag}{n}@acme.test", first_name=f"Person{n}"
            )
            enroll(contact=contact, sequence=sequence, user=bench.rep, start_at=parked)
    return sequence


def make_due(sequence: Any) -> None:
    from django.db import transaction
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from cadency.sequences.models import StepRun

    now = timezone.now()
    runs = StepRun.objects.filter(enrollment__sequence=sequence)
    with transaction.atomic():
        DBTaskResult.objects.filter(id__in=runs.values("task_id")).update(run_after=now)
        runs.update(due_at=now)


def runs_in(sequence: Any, *states: str) -> int:
    from cadency.sequences.models import StepRun

    return StepRun.objects.filter(enrollment__sequence=sequence, state__in=states).count()


def progress(sequence: Any) -> int:
    return runs_in(sequence, "accepted", "sent")


def reached(sequence: Any, sent: int) -> bool:
    return progress(sequence) >= sent


def unfinished(sequence: Any) -> int:
    return runs_in(sequence, "scheduled", "sending", "accepted")


def tally(sequence: Any) -> dict[str, Any]:
    """Message-IDs in the recipients' Maildirs against the sequence's step runs."""
    from cadency.ledger.models import Event
    from cadency.sequences.models import StepRun

    wait_for_empty_queue()
    runs = list(
        StepRun.objects.filter(enrollment__sequence=sequence).values_list(
            "message_id", "state", "enrollment_id"
        )
    )
    expected = {message_id for message_id, _, _ in runs if message_id}
    files = delivered(maildirs("acme.test"))
    copies = Counter(d.message_id for d in files)
    # Two copies from one SMTP transaction: Postfix delivered it twice (killed
    # mid-delivery when stopped); two transactions: Cadency sent it twice.
    transactions = Counter(m for m, _ in {(d.message_id, d.queue_id) for d in files})
    filed = {d.message_id for d in delivered(maildirs("example.test", ["rep"], ".Sent"))}
    events = Event.objects.filter(sequence=sequence)
    recoveries = list(events.filter(kind="send_recovered").values_list("sentence", flat=True))
    recovered = set(events.filter(kind="send_recovered").values_list("enrollment_id", flat=True))
    deferred = set(events.filter(kind="send_deferred").values_list("enrollment_id", flat=True))
    twice = {(m, e) for m, _, e in runs if transactions[m] > 1}
    return {
        "runs": len(runs),
        "states": dict(Counter(state for _, state, _ in runs)),
        "delivered": sum(copies[m] for m in expected),
        "duplicates": sum(transactions[m] - 1 for m, _ in twice),
        # Resent after an SMTP failure the server had in fact accepted (the reply
        # was lost when Postfix stopped): no crash involved.
        "duplicates_after_failed_smtp": sum(
            transactions[m] - 1 for m, e in twice if e in deferred and e not in recovered
        ),
        "redelivered_by_postfix": sum(copies[m] - transactions[m] for m in expected),
        "missing": sum(1 for message_id, _, _ in runs if not copies.get(message_id)),
        "unexpected": sum(n for m, n in copies.items() if m not in expected),
        "in_sent_folder": len(expected & filed),
        "recovered_from_sent_folder": sum("is in the Sent folder" in s for s in recoveries),
        "resent_after_crash": sum("sent again" in s for s in recoveries),
    }


def redelivered(result: dict[str, Any]) -> str:
    """What the duplicates figure leaves out or explains, when there is any."""
    notes = []
    if result["duplicates_after_failed_smtp"]:
        notes.append(
            f"{result['duplicates_after_failed_smtp']} of them resent after an SMTP "
            "failure Postfix had in fact accepted"
        )
    if result["redelivered_by_postfix"]:
        notes.append(f"+{result['redelivered_by_postfix']} delivered twice by Postfix, sent once")
    return f" ({'; '.join(notes)})" if notes else ""


# --- 1. kill -9 ---------------------------------------------------------------------


def choose_victim(bench: Bench, processes: list[Process]) -> tuple[Process, bool]:
    """A worker running a task right now if there is one (a crash that matters), else any."""
    import socket

    from django_tasks_db.models import DBTaskResult

    running = {
        worker
        for ids in DBTaskResult.objects.filter(status="RUNNING").values_list(
            "worker_ids", flat=True
        )
        for worker in ids[-1:]
    }
    alive = [p for p in processes if p.alive]
    busy = [p for p in alive if f"{socket.gethostname()}-{p.popen.pid}"[:64] in running]
    return bench.random.choice(busy or alive), bool(busy)


def kill_scenario(bench: Bench, count: int, kills: int, workers: int) -> dict[str, Any]:
    stack = mailstack_or_none()
    assert stack is not None
    stack.empty_all_mailboxes()
    sequence = burst(bench, "k", count)
    processes = [bench.worker() for _ in range(workers)]
    killed: list[dict[str, Any]] = []
    try:
        time.sleep(3)  # the workers start
        started = time.monotonic()
        make_due(sequence)
        low, high = max(1, count // 20), max(2, count * 9 // 10)
        for threshold in sorted(bench.random.sample(range(low, high), kills)):
            wait_until(partial(reached, sequence, threshold), 600, "burst progress", 0.01)
            time.sleep(bench.random.uniform(0, 0.15))
            victim, busy = choose_victim(bench, processes)
            in_flight = runs_in(sequence, "sending")
            victim.kill()
            killed.append(
                {
                    "running_a_task": busy,
                    "at_seconds": round(time.monotonic() - started, 2),
                    "sent_before": progress(sequence),
                    "sending_at_kill": in_flight,
                }
            )
            processes.remove(victim)
            processes.append(bench.worker())
        wait_until(lambda: unfinished(sequence) == 0, 900, "the burst", 0.2)
        seconds = time.monotonic() - started
    finally:
        stop_all(processes)
    result = tally(sequence)
    print(f"kill: {killed}", file=sys.stderr)
    return {
        "name": "crash: kill -9 in a burst",
        "scenario": "kill",
        "sends": count,
        "kills": killed,
        "seconds": round(seconds, 1),
        **result,
        "figure": f"{count} sends, {kills} x kill -9: {result['duplicates']} duplicates, "
        f"{result['missing']} missing" + redelivered(result),
        "goal": "0 dup, 0 missing",
        "met": result["duplicates"] == 0 and result["missing"] == 0,
    }


# --- 2. SMTP outage -----------------------------------------------------------------


def smtp_outage_scenario(bench: Bench, count: int, outage: float, workers: int) -> dict[str, Any]:
    stack = mailstack_or_none()
    assert stack is not None
    stack.empty_all_mailboxes()
    sequence = burst(bench, "s", count)
    processes = [bench.worker() for _ in range(workers)]
    try:
        time.sleep(3)
        started = time.monotonic()
        make_due(sequence)
        threshold = bench.random.randint(max(1, count // 5), max(2, count * 2 // 5))
        wait_until(lambda: progress(sequence) >= threshold, 600, "burst progress", 0.01)
        service("smtp.sh", "stop")
        sent_at_stop = progress(sequence)
        time.sleep(outage)
        sent_during = progress(sequence) - sent_at_stop
        service("smtp.sh", "start")
        restarted = time.monotonic()
        wait_until(lambda: unfinished(sequence) == 0, outage + 900, "the burst", 0.2)
        finished = time.monotonic()
    finally:
        stop_all(processes)
        service("smtp.sh", "start")  # a no-op restart if it is up; never leave it down
    result = tally(sequence)
    return {
        "name": "crash: SMTP down mid-burst",
        "scenario": "smtp_outage",
        "sends": count,
        "outage_seconds": outage,
        "sent_before_outage": sent_at_stop,
        "accepted_during_outage": sent_during,
        "seconds": round(finished - started, 1),
        "seconds_after_smtp_back": round(finished - restarted, 1),
        **result,
        "figure": f"{count} sends, SMTP down {outage:.0f} s: {result['duplicates']} duplicates, "
        f"{result['missing']} missing; done {finished - restarted:.0f} s after it was back"
        + redelivered(result),
        "goal": "0 dup, 0 missing",
        "met": result["duplicates"] == 0 and result["missing"] == 0,
    }


# --- 3. Dovecot restart under a watcher ---------------------------------------------


def reply(smtp: smtplib.SMTP, enrollment: Any) -> str:
    """The contact answers the first email; returns the reply's Message-ID."""
    first = enrollment.step_runs.get(position=1).message_id
    message = EmailMessage()
    message["From"] = enrollment.email
    message["To"] = REP
    message["Subject"] = "Re: Hello"
    message["Message-ID"] = make_msgid(domain="acme.test")
    message["In-Reply-To"] = first
    message["References"] = first
    message.set_content("Yes, let's talk on Tuesday.\n")
    smtp.send_message(message)
    return str(message["Message-ID"])


def processed(message_ids: list[str]) -> bool:
    from cadency.inbound.models import InboundMessage

    return InboundMessage.objects.filter(
        message_id__in=message_ids, status="processed"
    ).count() >= len(message_ids)


def inbox_synced_after(mailbox: Any, moment: dt.datetime) -> bool:
    from cadency.mailboxes.models import FolderSyncState

    return FolderSyncState.objects.filter(
        mailbox=mailbox, folder="INBOX", last_synced_at__gt=moment
    ).exists()


def imap_restart_scenario(bench: Bench, replies: int) -> dict[str, Any]:
    from django.db.models import Count
    from django.utils import timezone

    from cadency.contacts.models import Contact
    from cadency.inbound.models import InboundMessage
    from cadency.ledger.models import Event
    from cadency.sequences.services.enrollment import enroll

    stack = mailstack_or_none()
    assert stack is not None
    stack.empty_all_mailboxes()
    mailbox = bench.rep.mailboxes.get()
    sequence = always_open_sequence(
        bench.rep,
        "Restart",
        [
            {"type": "automated_email", "subject": "Hello", "body": "Hi"},
            {"type": "automated_email", "delay": 3, "body": "Following up"},
        ],
    )
    enrollments = [
        enroll(
            contact=Contact.objects.create(email=f"contact{n + 1:03d}+i{n}@acme.test"),
            sequence=sequence,
            user=bench.rep,
        )
        for n in range(3 * replies)
    ]
    before, during, after = (enrollments[i * replies : (i + 1) * replies] for i in range(3))
    watcher = start_cadency("watch", bench.env, bench.logs / "watcher.log")
    smtp = smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30)
    dovecot_down = False
    try:
        started = timezone.now()
        wait_until(lambda: inbox_synced_after(mailbox, started), 30, "the watcher's first sync")
        sent_before = [reply(smtp, e) for e in before]
        wait_until(lambda: processed(sent_before), 30, "replies before the restart")
        service("imap.sh", "stop")
        dovecot_down = True
        sent_during = [reply(smtp, e) for e in during]
        service("imap.sh", "start")
        dovecot_down = False
        up = timezone.now()
        clock = time.monotonic()
        first_after = reply(smtp, after[0])
        wait_until(lambda: inbox_synced_after(mailbox, up), 60, "the watcher's return")
        back = time.monotonic() - clock
        wait_until(lambda: processed([first_after]), 60, "a reply after the restart")
        recovery = time.monotonic() - clock
        sent_after = [first_after] + [reply(smtp, e) for e in after[1:]]
        every = sent_before + sent_during + sent_after
        wait_until(lambda: processed(every), 60, "every reply")
        time.sleep(3)  # time for any second processing to show
    finally:
        if dovecot_down:
            service("imap.sh", "start")
        smtp.quit()
        watcher.stop()
    rows = Counter(
        InboundMessage.objects.filter(mailbox=mailbox, message_id__in=every).values_list(
            "message_id", flat=True
        )
    )
    unenrollments = Counter(
        Event.objects.filter(sequence=sequence, kind="unenrolled")
        .values("enrollment_id")
        .annotate(n=Count("pk"))
        .values_list("n", flat=True)
    )
    twice = sum(n - 1 for n in rows.values() if n > 1)
    missed = sum(1 for m in every if not rows.get(m))
    ended_twice = sum(count for n, count in unenrollments.items() if n > 1)
    not_ended = len(enrollments) - sum(unenrollments.values())
    ok = twice == missed == ended_twice == not_ended == 0 and recovery <= RECOVERY_LIMIT
    return {
        "name": "crash: Dovecot restart",
        "scenario": "imap_restart",
        "replies": len(every),
        "processed_twice": twice,
        "missed": missed,
        "unenrolled_twice": ended_twice,
        "not_unenrolled": not_ended,
        "watcher_reconnected_seconds": round(back, 2),
        "recovery_seconds": round(recovery, 2),
        "figure": f"{len(every)} replies around a Dovecot restart: {missed} missed, "
        f"{twice} twice; a reply after it processed in {recovery:.2f} s "
        f"(watcher back in {back:.2f} s)",
        "goal": f"0/0, <= {RECOVERY_LIMIT:.0f} s",
        "ratio": round(recovery / RECOVERY_LIMIT, 2),
        "met": ok,
    }


# --- main ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sends", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--smtp-outage", type=float, default=60, help="seconds; 0 skips it")
    parser.add_argument("--replies", type=int, default=10, help="per phase of the restart")
    parser.add_argument("--sent-copy", choices=["provider", "append", "none"], default="provider")
    parser.add_argument("--scenarios", default="kill,smtp,imap")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="200 sends, 3 kills, 20 s outage")
    args = parser.parse_args()
    if args.quick:
        args.sends, args.kills, args.smtp_outage, args.replies = 200, 3, 20, 5
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    wanted = set(args.scenarios.split(","))
    with tempfile.TemporaryDirectory(prefix="cadency-crash-") as workdir:
        env = {**configure("postgres", Path(workdir)), **FAST_RECOVERY}
        os.environ.update(FAST_RECOVERY)
        reset_postgres_database()
        setup_django()
        from cadency.mailboxes.models import SentCopy

        rep = rep_with_mailbox("crash", sent_copy=SentCopy(args.sent_copy))
        bench = Bench(rep, env, Path(workdir), seed)
        witness: AbstractContextManager[None] = (
            provider_files_sent_mail(REP) if args.sent_copy == "provider" else nullcontext()
        )
        rows = []
        with witness:
            if "kill" in wanted:
                rows.append(kill_scenario(bench, args.sends, args.kills, args.workers))
            if "smtp" in wanted and args.smtp_outage > 0:
                rows.append(smtp_outage_scenario(bench, args.sends, args.smtp_outage, args.workers))
        if "imap" in wanted:
            rows.append(imap_restart_scenario(bench, args.replies))
        if any(not row["met"] for row in rows):
            print((Path(workdir) / "workers.log").read_text()[-3000:], file=sys.stderr)
    for row in rows:
        print({k: v for k, v in row.items() if k not in ("figure", "goal")}, file=sys.stderr)
    print(
        json.dumps(
            {
                "benchmark": "crash",
                "database": "postgres",
                "sent_copy": args.sent_copy,
                "seed": seed,
                "rows": rows,
                "figure": "; ".join(row["figure"] for row in rows),
                "goal": "0 dup, 0 missing; recovery <= 5 s",
                "met": all(row["met"] for row in rows),
            }
        )
    )


if __name__ == "__main__":
    main()
