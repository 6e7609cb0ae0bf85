"""More than one machine: two real `cadency worker` and two real `cadency watch`
processes on one PostgreSQL share the work without doing any of it twice.

A burst of 100 due sends is sent exactly once in total (counted in the recipients'
Dovecot mailboxes) and both workers send part of it; each mailbox is held by one
watcher, and when that watcher is killed (SIGKILL) the other takes the mailbox over
within the lease, and a reply that arrives afterwards is processed once.
"""

import datetime as dt
import os
import signal
import smtplib
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cadency.inbound.models import InboundMessage
from cadency.ledger.models import Event
from cadency.mailboxes.models import Mailbox, WatcherLease
from cadency.sequences.models import Enrollment, StepRun, StepRunState
from cadency.sequences.services.enrollment import enroll
from tests.factories import make_contact, make_mailbox, make_sequence, make_user
from tests.mailstack import MailStack

pytestmark = [pytest.mark.mail, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 3
CONTACTS = 100
CADENCY = Path(sys.executable).with_name("cadency")


class Cadency:
    """Starts `cadency …` processes on the test database; stops whatever is left."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *command: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [str(CADENCY), *command],
            env={**self.env, "DATABASE_URL": database_url(application_name=name)},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def database_url(*, application_name: str) -> str:
    """The test database (not the one DATABASE_URL names), as a child process needs it;
    the application name tells the children's connections apart in pg_stat_activity."""
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        f"?application_name={application_name}"
    )


@pytest.fixture
def postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "scale-out needs PostgreSQL (SKIP LOCKED, leases across processes): "
            "run with DATABASE_URL set to the loopback PostgreSQL"
        )


@pytest.fixture
def cadency(
    postgresql: None, transactional_db: None, mailstack: MailStack, tmp_path: Path
) -> Iterator[Cadency]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DATABASE_URL")},
        "DJANGO_SETTINGS_MODULE": "cadency.settings",
        "PYTHONUNBUFFERED": "1",
        "CADENCY_VAR_DIR": str(tmp_path / "var"),
        "CADENCY_ALLOW_TEST_DOMAINS": "1",
        "CADENCY_BASE_URL": "http://testserver",
        "CADENCY_MAIL_CA_FILE": mailstack.ca_file,
        "CADENCY_WATCHER_LEASE_SECONDS": str(LEASE_SECONDS),
        # Small batches, so that a burst is shared between workers as it would be
        # with many mailboxes.
        "CADENCY_SEND_BATCH": "4",
        "CADENCY_LOG_FORMAT": "json",
    }
    processes = Cadency(env, tmp_path)
    yield processes
    processes.stop_all()


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout, f"timed out waiting for {what}"
        time.sleep(0.1)
    return time.monotonic() - started


def connected(names: list[str]) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname = %s",
            [connection.settings_dict["NAME"]],
        )
        return set(names) <= {row[0] for row in cursor.fetchall()}


def pid_of_holder(holder: str) -> int:
    return int(holder.split(":")[1])  # host:pid:thread (cadency.inbound.watcher)


def live_holders() -> dict[int, int]:
    now = timezone.now()
    return {
        lease.mailbox_id: pid_of_holder(lease.holder)
        for lease in WatcherLease.objects.exclude(holder="")
        if lease.expires_at is not None and lease.expires_at > now
    }


def message_ids_received(stack: MailStack, addresses: list[str]) -> Counter[str]:
    found: Counter[str] = Counter()
    for address in addresses:
        for message in stack.messages(address):
            found[str(message["Message-ID"]).strip()] += 1
    return found


def reply(stack: MailStack, sender: str, to: str, first_id: str) -> str:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Re: Quick question"
    message["Message-ID"] = reply_id = make_msgid(domain="acme.test")
    message["In-Reply-To"] = first_id
    message["References"] = first_id
    message.set_content("Thanks, Thursday works for me.\n")
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=10) as client:
        client.starttls(context=stack.tls())
        client.login(sender, stack.password)
        client.send_message(message)
    return reply_id


def test_two_workers_and_two_watchers_share_the_work_without_duplicates(
    mailstack: MailStack, cadency: Cadency
) -> None:
    reps = [make_user("alice"), make_user("bob")]
    mailboxes = [
        make_mailbox(reps[0], "rep@example.test"),
        make_mailbox(reps[1], "rep2@example.test"),
    ]
    sequences = [make_sequence(rep) for rep in reps]
    addresses = [f"contact{n:03d}@acme.test" for n in range(1, CONTACTS + 1)]
    contacts = [make_contact(address) for address in addresses]

    workers = [cadency.start(f"worker{n}", "worker") for n in (1, 2)]
    watchers = [cadency.start(f"watch{n}", "watch") for n in (1, 2)]

    # (a) A burst: every first step falls due at the same moment, a few seconds on.
    burst_at = timezone.now() + dt.timedelta(seconds=8)
    for n, contact in enumerate(contacts):
        enroll(contact=contact, sequence=sequences[n % 2], user=reps[n % 2], start_at=burst_at)
    wait_for(
        lambda: connected(["worker1", "worker2", "watch1", "watch2"]),
        timeout=20,
        what="the four processes to reach the database",
    )
    first_steps = StepRun.objects.filter(position=1)
    wait_for(
        lambda: first_steps.filter(state=StepRunState.SENT).count() == CONTACTS,
        timeout=40,
        what="every first step to be sent",
    )
    time.sleep(0.5)  # a duplicate, had there been one, would have reached Dovecot by now
    received = message_ids_received(mailstack, addresses)
    expected = set(first_steps.values_list("message_id", flat=True))
    assert len(expected) == CONTACTS
    assert set(received) == expected, "every message arrived, and nothing else"
    assert max(received.values()) == 1, "no message was sent twice"

    senders = {
        int(worker_id.rsplit("-", 1)[1])
        for task in DBTaskResult.objects.filter(task_path__endswith="run_step", return_value="sent")
        for worker_id in task.worker_ids
    }
    assert senders == {worker.pid for worker in workers}, "both workers sent part of the burst"

    # (b) Each mailbox is held by one watcher process, and keeps it while it lives.
    wait_for(lambda: len(live_holders()) == 2, timeout=10, what="both mailboxes to be watched")
    holders = live_holders()
    assert set(holders.values()) <= {watcher.pid for watcher in watchers}
    for _ in range(10):
        time.sleep(0.2)
        assert live_holders() == holders, "a live watcher's mailbox is not taken from it"

    rep_mailbox = mailboxes[0]
    victim = next(w for w in watchers if w.pid == holders[rep_mailbox.pk])
    survivor = next(w for w in watchers if w is not victim)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=5)
    took = wait_for(
        lambda: live_holders() == {m.pk: survivor.pid for m in mailboxes},
        timeout=LEASE_SECONDS + 5,
        what="the surviving watcher to take over every mailbox",
    )
    assert took <= LEASE_SECONDS + 3

    # A reply after the takeover is read once and ends its enrollment once.
    enrollment = Enrollment.objects.get(contact=contacts[0])
    first_id = enrollment.step_runs.get(position=1).message_id
    reply_id = reply(mailstack, addresses[0], rep_mailbox.email, first_id)
    wait_for(
        lambda: Enrollment.objects.get(pk=enrollment.pk).status == "unenrolled",
        timeout=10,
        what="the reply to end the enrollment",
    )
    time.sleep(LEASE_SECONDS)  # a second reader, had there been one, would have read it too
    enrollment.refresh_from_db()
    assert enrollment.reason == "replied"
    stored = InboundMessage.objects.filter(message_id=reply_id)
    assert stored.count() == 1
    assert stored.get().status == "processed"
    assert Event.objects.filter(enrollment=enrollment, kind="unenrolled").count() == 1
    assert Mailbox.objects.count() == 2
    assert survivor.poll() is None, cadency.log("watch1") + cadency.log("watch2")
    assert all(worker.poll() is None for worker in workers)
