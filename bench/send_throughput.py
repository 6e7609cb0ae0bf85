"""N due steps through the real worker into the local Postfix, against bare smtplib.

Usage: python bench/send_throughput.py [--steps 2000] [--workers 2] [--database sqlite|postgres]
       [--py-spy PATH --profile-dir DIR [--wall-time]]
Needs the loopback services (CADENCY_TEST_SERVICES_DIR). Prints a JSON line.
With ``--py-spy``, each worker is sampled while it sends (py-spy's raw format,
one file per worker in DIR, for flamegraph.pl or speedscope).
"""

import argparse
import json
import os
import signal
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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


@dataclass
class Profile:
    py_spy: str
    directory: Path
    wall_time: bool


@dataclass
class Timing:
    seconds: float
    cpu_seconds: float  # what the timed processes used of the CPU meanwhile


def run_workers(
    workers: int, steps: int, env: dict[str, str], profile: Profile | None = None
) -> Timing:
    """Start the workers, wait until they idle, then make every step due and time them."""
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
    samplers = []
    try:
        wait_until_idle([p.pid for p in processes])
        if profile is not None:
            samplers = [sample(profile, p.pid) for p in processes]
        cpu_before = sum(cpu_seconds(p.pid) for p in processes)
        started = time.perf_counter()
        make_all_due()
        while StepRun.objects.filter(state=StepRunState.SENT).count() < steps:
            if any(p.poll() is not None for p in processes):
                raise RuntimeError("a worker exited during the benchmark")
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        return Timing(elapsed, sum(cpu_seconds(p.pid) for p in processes) - cpu_before)
    finally:
        for sampler in samplers:
            sampler.send_signal(signal.SIGINT)
            sampler.wait(timeout=60)
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process (Linux)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pids: list[int], *, timeout: float = 120) -> None:
    """A worker's start-up (imports, system checks) must not fall in the timed window:
    wait until every worker runs its loop (``run_worker`` has started its helper
    threads, then waits up to a second before polling) and has used under a
    quarter of a core for half a second."""
    deadline = time.monotonic() + timeout
    while not all(thread_count(pid) >= 4 for pid in pids):
        if time.monotonic() > deadline:
            raise RuntimeError("the workers never started")
        time.sleep(0.1)
    time.sleep(1.5)
    while time.monotonic() < deadline:
        before = [cpu_seconds(pid) for pid in pids]
        time.sleep(0.5)
        if all(cpu_seconds(pid) - used < 0.125 for pid, used in zip(pids, before, strict=True)):
            return
    raise RuntimeError("the workers never settled")


def thread_count(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("Threads:")).split()[1])


def sample(profile: Profile, pid: int) -> subprocess.Popen[bytes]:
    """py-spy on one worker: CPU (samples holding the interpreter lock) or wall time."""
    profile.directory.mkdir(parents=True, exist_ok=True)
    output = profile.directory / f"worker-{pid}.txt"
    command = [profile.py_spy, "record", "--pid", str(pid), "--format", "raw", "--threads"]
    command += ["--idle"] if profile.wall_time else ["--gil"]
    return subprocess.Popen([*command, "--rate", "200", "-o", str(output)])


def run_peer(messages: list[tuple[str, bytes]]) -> Timing:
    stack = mailstack_or_none()
    assert stack is not None
    context = ssl.create_default_context(cafile=stack.ca_file)
    cpu_before = time.process_time()
    started = time.perf_counter()
    client = smtplib.SMTP("127.0.0.1", stack.smtp_port)
    client.starttls(context=context)
    client.login("rep@example.test", stack.password)
    for recipient, raw in messages:
        client.sendmail("rep@example.test", [recipient], raw)
    client.quit()
    return Timing(time.perf_counter() - started, time.process_time() - cpu_before)


def wait_for_delivery(timeout: float = 120) -> None:
    """Postfix hands what it accepted to Dovecot afterwards (LMTP, a good part of a
    core): let one phase's deliveries finish before the next phase is timed."""
    queue = Path(os.environ["CADENCY_TEST_SERVICES_DIR"]) / "postfix-queue"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(
        path.is_file()
        for folder in ("maildrop", "incoming", "active")
        for path in (queue / folder).rglob("*")
    ):
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--py-spy", help="path of py-spy: sample each worker while it sends")
    parser.add_argument("--profile-dir", type=Path, default=Path("bench-profile"))
    parser.add_argument("--wall-time", action="store_true", help="profile waits too, not only CPU")
    args = parser.parse_args()
    profile = Profile(args.py_spy, args.profile_dir, args.wall_time) if args.py_spy else None
    with tempfile.TemporaryDirectory(prefix="cadency-bench-") as workdir:
        env = configure(args.database, Path(workdir))
        if args.database == "postgres":
            reset_postgres_database()
        messages = prepare(args.steps)
        # The peer runs before and after the workers: other load on the machine
        # changes over a run, and the ratio compares with what both brackets saw.
        peer_before = run_peer(messages)
        wait_for_delivery()
        worker = run_workers(args.workers, args.steps, env, profile)
        wait_for_delivery()
        peer_after = run_peer(messages)
    worker_rate = args.steps / worker.seconds
    peer_rate = 2 * args.steps / (peer_before.seconds + peer_after.seconds)
    peer_cpu = (peer_before.cpu_seconds + peer_after.cpu_seconds) / 2
    print(
        json.dumps(
            {
                "benchmark": "send_throughput",
                "database": args.database,
                "steps": args.steps,
                "workers": args.workers,
                "cadency_per_second": round(worker_rate, 1),
                "smtplib_per_second": round(peer_rate, 1),
                "smtplib_before_after": [
                    round(args.steps / peer_before.seconds, 1),
                    round(args.steps / peer_after.seconds, 1),
                ],
                "ratio": round(worker_rate / peer_rate, 3),
                "cadency_cpu_ms_per_message": round(worker.cpu_seconds / args.steps * 1000, 2),
                "smtplib_cpu_ms_per_message": round(peer_cpu / args.steps * 1000, 2),
                "figure": f"{worker_rate:.1f}/s vs smtplib {peer_rate:.1f}/s",
                "goal": ">= 0.9",
                "met": worker_rate / peer_rate >= 0.9,
            }
        )
    )


if __name__ == "__main__":
    main()
