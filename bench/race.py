"""A reply racing the follow-up (SPEC §8: "a reply that reached the inbox before a
send started always stops that send").

Usage: python bench/race.py [--trials 200] [--spacing 0.25] [--workers 2] [--quick]

Needs the loopback services (CADENCY_TEST_SERVICES_DIR); runs on PostgreSQL.
Each trial is an enrollment whose first email was sent and whose follow-up
becomes due at its own moment T (trials are staggered ``--spacing`` seconds
apart, so they run side by side); the contact's reply is sent by SMTP to the
rep's Dovecot inbox at a random moment in [T - 2 s, T + 2 s]. Real `cadency
worker` processes and a `cadency watch` run throughout.

Afterwards each trial is judged from recorded times: when Dovecot delivered the
reply (the Maildir file's name carries the delivery time to the microsecond)
against when the follow-up's send began (the step run's ``claimed_at``, the
moment it went ``sending``; the inbox is read after that and before SMTP). A
follow-up sent although the reply was in the inbox before its send began is a
violation (goal 0). Prints a JSON line.
"""

import argparse
import datetime as dt
import json
import os
import random
import smtplib
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from email.utils import make_msgid
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
WINDOW = 2.0  # the reply lands within ± this many seconds of the due time
LEAD = 5.0  # seconds between scheduling the follow-ups and the first due time


def enroll_trials(rep: Any, trials: int) -> tuple[Any, list[Any]]:
    """Enrollments whose first email is due now and follow-up a day later."""
    from django.db import transaction

    from cadency.contacts.models import Contact
    from cadency.sequences.services.enrollment import enroll

    sequence = always_open_sequence(
        rep,
        "Race",
        [
            {"type": "automated_email", "subject": "Quick question", "body": "Hi"},
            {"type": "automated_email", "delay": 1, "body": "Following up"},
        ],
    )
    with transaction.atomic():
        enrollments = [
            enroll(
                contact=Contact.objects.create(email=f"contact{n % 100 + 1:03d}+r{n}@acme.test"),
                sequence=sequence,
                user=rep,
                run_first_step=False,
            )
            for n in range(trials)
        ]
    return sequence, enrollments


def follow_ups_scheduled(sequence: Any, trials: int) -> bool:
    from cadency.sequences.models import StepRun

    return (
        StepRun.objects.filter(enrollment__sequence=sequence, position=2, state="scheduled").count()
        >= trials
    )


def schedule_follow_ups(enrollments: list[Any], first_due: float, spacing: float) -> list[float]:
    """Trial i's follow-up becomes due at first_due + i x spacing (epoch seconds)."""
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from cadency.sequences.models import StepRun

    due_times = [first_due + i * spacing for i in range(len(enrollments))]
    with transaction.atomic():
        for enrollment, due in zip(enrollments, due_times, strict=True):
            run = StepRun.objects.get(enrollment=enrollment, position=2)
            when = dt.datetime.fromtimestamp(due, dt.UTC)
            StepRun.objects.filter(pk=run.pk).update(due_at=when)
            assert run.task_id is not None
            DBTaskResult.objects.filter(id=run.task_id).update(run_after=when)
    return due_times


def reply_message(enrollment: Any) -> EmailMessage:
    first = enrollment.step_runs.get(position=1).message_id
    message = EmailMessage()
    message["From"] = enrollment.email
    message["To"] = REP
    message["Subject"] = "Re: Quick question"
    message["Message-ID"] = make_msgid(domain="acme.test")
    message["In-Reply-To"] = first
    message["References"] = first
    message.set_content("Thanks, I'm interested. Can we talk on Thursday?\n")
    return message


class Replier(threading.Thread):
    """Sends each reply at its moment over one SMTP connection; notes when SMTP returned."""

    def __init__(self, port: int, plan: list[tuple[float, EmailMessage]]) -> None:
        super().__init__(name="replier", daemon=True)
        self.port = port
        self.plan = sorted(plan, key=lambda item: item[0])
        self.returned: dict[str, float] = {}
        self.late: list[float] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            smtp = smtplib.SMTP("127.0.0.1", self.port, timeout=30)
            for moment, message in self.plan:
                pause = moment - time.time()
                if pause > 0:
                    time.sleep(pause)
                else:
                    self.late.append(-pause)
                smtp.send_message(message)
                self.returned[str(message["Message-ID"])] = time.time()
            smtp.quit()
        except BaseException as exc:  # reported by the main thread
            self.error = exc


def judge(enrollments: list[Any], replies: dict[int, str]) -> dict[str, Any]:
    from cadency.sequences.models import StepRun

    inbox = {d.message_id: d.delivered_at for d in delivered(maildirs("example.test", ["rep"]))}
    received = {d.message_id for d in delivered(maildirs("acme.test"))}
    counts = {
        "violations": 0,
        "reply_before_send": 0,
        "reply_after_send_began": 0,
        "follow_ups_sent": 0,
        "follow_ups_stopped_before_claim": 0,
        "follow_ups_withheld_after_claim": 0,
        "replies_not_delivered": 0,
    }
    margins: list[float] = []
    details = []
    for enrollment in enrollments:
        run = StepRun.objects.get(enrollment=enrollment, position=2)
        reply_at = inbox.get(replies[enrollment.pk])
        if reply_at is None:
            counts["replies_not_delivered"] += 1
            continue
        began = run.claimed_at.timestamp() if run.claimed_at else None
        was_sent = run.state in ("sent", "accepted") or run.message_id in received
        if began is None or reply_at < began:
            counts["reply_before_send"] += 1
        else:
            counts["reply_after_send_began"] += 1
        if was_sent:
            counts["follow_ups_sent"] += 1
            assert began is not None
            margins.append(began - reply_at)
            if reply_at < began:
                counts["violations"] += 1
                details.append(
                    {
                        "enrollment": enrollment.pk,
                        "reply_delivered_before_send_by_seconds": round(began - reply_at, 4),
                    }
                )
        elif began is None:
            counts["follow_ups_stopped_before_claim"] += 1
        else:
            counts["follow_ups_withheld_after_claim"] += 1
    closest = min((m for m in margins if m < 0), default=None, key=abs)
    return {
        **counts,
        "violation_details": details,
        "nearest_reply_after_send_began": round(-closest, 4) if closest is not None else None,
    }


def run_trials(trials: int, spacing: float, workers: int, env: dict[str, str], logs: Path) -> Any:
    from cadency.sequences.models import Enrollment

    stack = mailstack_or_none()
    assert stack is not None
    stack.empty_all_mailboxes()
    rep = rep_with_mailbox("racer")
    sequence, enrollments = enroll_trials(rep, trials)
    processes: list[Process] = [
        start_cadency("worker", env, logs / "workers.log", "--interval", "0.05")
        for _ in range(workers)
    ]
    processes.append(start_cadency("watch", env, logs / "watcher.log"))
    try:
        wait_until(lambda: follow_ups_scheduled(sequence, trials), 300, "the first emails")
        wait_for_empty_queue()
        first_due = time.time() + LEAD
        due = schedule_follow_ups(enrollments, first_due, spacing)
        offsets = [random.uniform(-WINDOW, WINDOW) for _ in enrollments]
        messages = {e.pk: reply_message(e) for e in enrollments}
        replier = Replier(
            stack.smtp_port,
            [(t + o, messages[e.pk]) for e, t, o in zip(enrollments, due, offsets, strict=True)],
        )
        replier.start()
        replier.join()
        if replier.error is not None:
            raise replier.error
        wait_for_empty_queue()

        def settled() -> bool:
            return not Enrollment.objects.filter(sequence=sequence, status="active").exists()

        wait_until(settled, 120, "every reply processed")
    finally:
        stop_all(processes)
    replies = {pk: str(message["Message-ID"]) for pk, message in messages.items()}
    verdict = judge(enrollments, replies)
    verdict["reply_send_late_max_seconds"] = round(max(replier.late, default=0.0), 3)
    return verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--spacing", type=float, default=0.25, help="seconds between due times")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="50 trials")
    args = parser.parse_args()
    if args.quick:
        args.trials = 50
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    random.seed(seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cadency-race-") as workdir:
        env = {**configure("postgres", Path(workdir)), **FAST_RECOVERY}
        os.environ.update(FAST_RECOVERY)
        reset_postgres_database()
        setup_django()
        verdict = run_trials(args.trials, args.spacing, args.workers, env, Path(workdir))
    print(verdict, file=sys.stderr)
    print(
        json.dumps(
            {
                "benchmark": "race",
                "database": "postgres",
                "trials": args.trials,
                "seed": seed,
                "seconds": round(time.monotonic() - started, 1),
                **verdict,
                "figure": f"{verdict['violations']} violations in {args.trials} trials "
                f"(reply before the send began: {verdict['reply_before_send']}, after: "
                f"{verdict['reply_after_send_began']}; follow-ups sent "
                f"{verdict['follow_ups_sent']})",
                "goal": "0 violations",
                "met": verdict["violations"] == 0 and verdict["replies_not_delivered"] == 0,
            }
        )
    )


if __name__ == "__main__":
    main()
