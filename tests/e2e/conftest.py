import imaplib
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django_tasks_db.management.commands.db_worker import Worker

from cadency.outbound.smtp_send import pool
from tests.factories import make_contact, make_mailbox, make_sequence, make_user
from tests.mailstack import MailStack


def run_worker_until_idle() -> None:
    """Run the real task worker in this process until no task is ready."""
    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


@pytest.fixture(autouse=True)
def fresh_smtp_connections() -> None:
    pool.close_all()


@pytest.fixture
def rep():  # type: ignore[no-untyped-def]
    user = make_user("alice", first_name="Alice", last_name="Martin")
    make_mailbox(user, "rep@example.test")
    return user


@pytest.fixture
def jane():  # type: ignore[no-untyped-def]
    return make_contact("jane@acme.test", first_name="Jane", last_name="Doe")


@pytest.fixture
def two_step_sequence(rep):  # type: ignore[no-untyped-def]
    return make_sequence(rep, name="Intro")


# --- the rep's own mailbox over IMAP, and their server-side mail rules ------------------


@pytest.fixture
def file_as_rep(mailstack: MailStack) -> Iterator[Callable[[str, bytes], None]]:
    """``file_as_rep("Replies", raw)``: the rep's mail client files a message in a
    folder (created if needed) with IMAP APPEND, as a rule moving it there would."""
    from cadency.inbound.folders import imap_folder

    client = mailstack.imap("rep@example.test")

    def file(folder: str, raw: bytes) -> None:
        client.create(imap_folder(folder))  # NO [ALREADYEXISTS] when it exists
        status, data = client.append(
            imap_folder(folder), None, imaplib.Time2Internaldate(time.time()), raw
        )
        assert status == "OK", data

    yield file
    client.logout()


@pytest.fixture
def rep_sieve(mailstack: MailStack) -> Iterator[Callable[[str], None]]:
    """``rep_sieve(script)``: a Sieve script run by Dovecot at delivery to the rep
    (server-side mail rules); removed after the test."""
    home = mailstack.base / "vmail" / "example.test" / "rep"
    written: list[Path] = []

    def install(script: str) -> None:
        path = home / ".dovecot.sieve"
        path.write_text(script)
        shutil.chown(path, "vmail", "vmail")
        written.append(path)

    yield install
    for path in written:
        path.unlink(missing_ok=True)
        path.with_suffix(".svbin").unlink(missing_ok=True)
