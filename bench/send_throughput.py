"""N due steps through the real worker into the local Postfix, against bare smtplib.

Usage: python bench/send_throughput.py [--steps 2000] [--workers 2] [--database sqlite|postgres]
Needs the loopback services (CADENCY_TEST_SERVICES_DIR). Prints a JSON line.
"""

import argparse
import json
import os
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.mailstack import mailstack_or_none  # noqa: E402

from bench.setup import (  # noqa: E402
    always_open_sequence,
    configure,
    rep_with_mailbox,
    reset_postgres_database,
    setup_django,
)

RECIPIENTS = [f"contact{n:03d}@acme.test" for n in range(1, 101)]
# Steps are created due far ahead, then all made due at once when the workers are up.
PARKED_UNTIL = None  # set in prepare()


def prepare(steps: int) -> list[tuple[str, bytes]]:
    """Create N due step runs; return (recipient, raw message) pairs for the peer."""
    setup_django()
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone
    from tests.factories import make_contact

    from cadency.mailboxes.models import SentCopy
    from cadency.outbound.compose import OutgoingEmail, build_message, new_message_id
    from cadency.sequences.services.enrollment import enroll

    global PARKED_UNTIL
    PARKED_UNTIL = timezone.now() + dt.timedelta(days=1)
    rep = rep_with_mailbox("bench", sent_copy=SentCopy.NONE)
    mailbox = rep.mailboxes.get()
    sequence = always_open_sequence(
        rep,
        "Bench",
        [
            {
                "type": "automated_email",
                "subject": "Quick question, {{ contact.first_name }}",
                "body": "Hi {{ contact.first_name }},\n\nWould a short call next week help?",
            }
        ],
    )
    peer_messages: list[tuple[str, bytes]] = []
    with transaction.atomic():
        for n in range(steps):
            recipient = RECIPIENTS[n % len(RECIPIENTS)]
            local, domain = recipient.split("@")
            contact = make_contact(f"{local}+{n}@{domain}", first_name=f"Person{n}")
            enrollment = enroll(contact=contact, sequence=sequence, user=rep, start_at=PARKED_UNTIL)
            raw = build_message(
                OutgoingEmail(
                    mailbox=mailbox,
                    sender_name="Bench Rep",
                    to_name=contact.full_name,
                    to_email=contact.email,
                    subject=f"Quick question, Person{n}",
                    body=f"Hi Person{n},\n\nWould a short call next week help?",
                    message_id=new_message_id(mailbox),
                    enrollment_id=enrollment.pk,
                )
            ).as_bytes()
            peer_messages.append((contact.email, raw))
    return peer_messages


def make_all_due() -> None:
    from django.db import transaction
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from cadency.sequences.models import StepRun

    now = timezone.now()
    with transaction.atomic():
        StepRun.objects.update(due_at=now)
        DBTaskResult.objects.update(run_after=now)


def run_workers(workers: int, steps: int, env: dict[str, str]) -> float:
    """Start the workers, let them settle, then make every step due and time them."""
    from cadency.sequences.models import StepRun, StepRunState

    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "cadency.cli", "worker", "--interval", "0.05"],
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        time.sleep(3)
        started = time.perf_counter()
        make_all_due()
        while StepRun.objects.filter(state=StepRunState.SENT).count() < steps:
            if any(p.poll() is not None for p in processes):
                raise RuntimeError("a worker exited during the benchmark")
            time.sleep(0.02)
        return time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def run_peer(messages: list[tuple[str, bytes]]) -> float:
    stack = mailstack_or_none()
    assert stack is not None
    context = ssl.create_default_context(cafile=stack.ca_file)
    started = time.perf_counter()
    client = smtplib.SMTP("127.0.0.1", stack.smtp_port)
    client.starttls(context=context)
    client.login("rep@example.test", stack.password)
    for recipient, raw in messages:
        client.sendmail("rep@example.test", [recipient], raw)
    client.quit()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cadency-bench-") as workdir:
        env = configure(args.database, Path(workdir))
        if args.database == "postgres":
            reset_postgres_database()
        messages = prepare(args.steps)
        peer_seconds = run_peer(messages)
        time.sleep(2)  # let Postfix deliver the peer's messages first
        worker_seconds = run_workers(args.workers, args.steps, env)
    worker_rate = args.steps / worker_seconds
    peer_rate = args.steps / peer_seconds
    print(
        json.dumps(
            {
                "benchmark": "send_throughput",
                "database": args.database,
                "steps": args.steps,
                "workers": args.workers,
                "cadency_per_second": round(worker_rate, 1),
                "smtplib_per_second": round(peer_rate, 1),
                "ratio": round(worker_rate / peer_rate, 3),
                "figure": f"{worker_rate:.1f}/s vs smtplib {peer_rate:.1f}/s",
                "goal": ">= 0.9",
                "met": worker_rate / peer_rate >= 0.9,
            }
        )
    )


if __name__ == "__main__":
    main()
