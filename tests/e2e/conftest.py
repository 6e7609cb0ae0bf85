import pytest
from django_tasks_db.management.commands.db_worker import Worker

from cadency.outbound.smtp_send import pool
from tests.factories import make_contact, make_mailbox, make_sequence, make_user


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
