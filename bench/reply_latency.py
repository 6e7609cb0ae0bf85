"""From the moment Dovecot has a contact's reply to the moment the enrollment ends.

Usage: python bench/reply_latency.py [--replies 50] [--database sqlite|postgres]
Needs the loopback services (CADENCY_TEST_SERVICES_DIR). A real `cadency watch`
process watches the rep's inbox with IMAP IDLE; each contact replies by SMTP in
turn; the clock starts when the SMTP server accepts the reply (local delivery
to Dovecot follows within milliseconds) and stops when the enrollment is
unenrolled. Prints a JSON line with p50, p99 and the goal (p99 < 1 s).
"""

import argparse
import json
import os
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import make_msgid
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replies", type=int, default=50)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cadency-latency-") as workdir:
        env = configure(args.database, Path(workdir))
        if args.database == "postgres":
            reset_postgres_database()
        latencies = measure(args.replies, env)
    print("latencies:", [round(x, 3) for x in latencies], file=sys.stderr)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
    print(
        json.dumps(
            {
                "benchmark": "reply_latency",
                "database": args.database,
                "replies": len(latencies),
                "p50_seconds": round(p50, 3),
                "p99_seconds": round(p99, 3),
                "max_seconds": round(latencies[-1], 3),
                "figure": f"p50 {p50:.3f} s, p99 {p99:.3f} s over {len(latencies)} replies",
                "goal": "p99 < 1 s",
                "ratio": round(p99 / 1.0, 3),
                "met": p99 < 1.0,
            }
        )
    )


def measure(replies: int, env: dict[str, str]) -> list[float]:
    setup_django()
    from tests.factories import make_contact

    from cadency.sequences.models import Enrollment
    from cadency.sequences.services.enrollment import enroll

    stack = mailstack_or_none()
    assert stack is not None
    stack.empty_all_mailboxes()  # replies from an earlier run would be read as new mail
    rep = rep_with_mailbox("latency")
    sequence = always_open_sequence(
        rep,
        "Latency",
        [
            {"type": "automated_email", "subject": "Quick question", "body": "Hi there"},
            {"type": "automated_email", "delay": 3, "body": "Following up"},
        ],
    )
    enrollments = []
    for n in range(1, replies + 1):
        contact = make_contact(f"contact{n:03d}@acme.test", first_name=f"Person{n}")
        enrollments.append(enroll(contact=contact, sequence=sequence, user=rep))
    watcher = subprocess.Popen(
        [sys.executable, "-m", "cadency.cli", "watch"],
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(3)  # the watcher connects and reads the inbox once
        latencies = []
        smtp = smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=10)
        smtp.starttls(context=stack.tls())
        for enrollment in enrollments:
            first_id = enrollment.step_runs.get(position=1).message_id
            reply = EmailMessage()
            reply["From"] = enrollment.email
            reply["To"] = "rep@example.test"
            reply["Subject"] = "Re: Quick question"
            reply["Message-ID"] = make_msgid(domain="acme.test")
            reply["In-Reply-To"] = first_id
            reply["References"] = first_id
            reply.set_content("Sounds good, let's talk on Tuesday.\n")
            smtp.send_message(reply)
            started = time.perf_counter()
            while Enrollment.objects.get(pk=enrollment.pk).status != "unenrolled":
                if time.perf_counter() - started > 30:
                    raise RuntimeError(f"no unenrollment for {enrollment.email} after 30 s")
                time.sleep(0.005)
            latencies.append(time.perf_counter() - started)
        smtp.quit()
        return latencies
    finally:
        watcher.terminate()
        watcher.wait(timeout=30)


if __name__ == "__main__":
    main()
