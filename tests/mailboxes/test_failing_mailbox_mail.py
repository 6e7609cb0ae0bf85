"""A mailbox whose password is wrong fails for real at the loopback Postfix and Dovecot:
its enrollments pause and its user is alerted; the right password resumes them."""

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from cadency.accounts.models import Alert, User
from cadency.inbound.watcher import MailboxWatch
from cadency.mailboxes import health
from cadency.mailboxes.models import Mailbox
from cadency.sequences.models import Enrollment, EnrollmentStatus
from cadency.sequences.services.enrollment import enroll
from tests.api.support import task_first_sequence
from tests.factories import make_contact, make_mailbox, make_user
from tests.mailstack import MailStack

pytestmark = pytest.mark.mail


@pytest.fixture
def every_failure_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests fail within seconds; in production failures 30 s apart count."""
    monkeypatch.setattr(health, "SAME_FAILURE", dt.timedelta(0))


def rep_with_wrong_password() -> tuple[User, Mailbox, list[Enrollment]]:
    rep = make_user("alice", first_name="Alice", last_name="Martin")
    mailbox = make_mailbox(rep, "rep@example.test")
    sequence = task_first_sequence(rep)
    enrollments = [
        enroll(contact=make_contact(), sequence=sequence, user=rep, run_first_step=False)
        for _ in range(2)
    ]
    mailbox.set_secret("not-the-password")
    mailbox.save(update_fields=["secret_encrypted"])
    return rep, mailbox, enrollments


def statuses(enrollments: list[Enrollment]) -> list[str]:
    return [Enrollment.objects.get(pk=e.pk).status for e in enrollments]


def wait_until(condition: Callable[[], bool], timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.mark.django_db
def test_a_wrong_password_pauses_after_three_tests_and_the_right_one_resumes(
    mailstack: MailStack, every_failure_counts: None
) -> None:
    rep, mailbox, enrollments = rep_with_wrong_password()
    client = Client()
    client.force_login(rep)

    for attempt in range(3):
        assert statuses(enrollments) == [EnrollmentStatus.ACTIVE] * 2, attempt
        page = client.post(f"/mailboxes/{mailbox.pk}/test/", follow=True).content.decode()
        assert "login refused (wrong username or password)" in page

    assert statuses(enrollments) == [EnrollmentStatus.PAUSED] * 2
    mailbox.refresh_from_db()
    assert (mailbox.smtp_failures, mailbox.imap_failures) == (3, 3)
    alerts = client.get("/alerts/").content.decode()
    assert "The mailbox rep@example.test keeps failing" in alerts
    assert "535" in alerts or "login refused" in alerts
    assert 'aria-label="Alerts: 1 open"' in alerts

    wrong = client.post(f"/mailboxes/{mailbox.pk}/credentials/", {"secret": "still-wrong"})
    assert wrong.status_code == 400
    assert statuses(enrollments) == [EnrollmentStatus.PAUSED] * 2

    fixed = client.post(f"/mailboxes/{mailbox.pk}/credentials/", {"secret": mailstack.password})

    assert fixed.status_code == 302
    assert statuses(enrollments) == [EnrollmentStatus.ACTIVE] * 2
    alert = Alert.objects.get()
    assert alert.resolved_at is not None and "new credentials" in alert.resolution
    mailbox.refresh_from_db()
    assert (mailbox.health, mailbox.smtp_failures, mailbox.imap_failures) == ("ok", 0, 0)


@pytest.fixture
def watcher(settings: Any) -> Iterator[Callable[[Mailbox], MailboxWatch]]:
    settings.CADENCY_WATCHER_LEASE_SECONDS = 3
    stopping = threading.Event()
    started: list[MailboxWatch] = []

    def start(mailbox: Mailbox) -> MailboxWatch:
        watch = MailboxWatch(mailbox.pk, stopping)
        watch.start()
        started.append(watch)
        return watch

    yield start
    stopping.set()
    for watch in started:
        watch.join(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_the_watcher_pauses_on_failed_logins_and_resumes_once_it_logs_in(
    mailstack: MailStack,
    every_failure_counts: None,
    watcher: Callable[[Mailbox], MailboxWatch],
) -> None:
    _, mailbox, enrollments = rep_with_wrong_password()
    watcher(mailbox)

    assert wait_until(lambda: statuses(enrollments) == [EnrollmentStatus.PAUSED] * 2)
    assert Mailbox.objects.get(pk=mailbox.pk).imap_failures >= 3
    assert Alert.objects.filter(resolved_at=None).count() == 1

    mailbox.refresh_from_db()
    mailbox.set_secret(mailstack.password)  # fixed at the provider and here
    mailbox.save(update_fields=["secret_encrypted"])

    assert wait_until(lambda: statuses(enrollments) == [EnrollmentStatus.ACTIVE] * 2, timeout=90)
    assert Alert.objects.get().resolved_at is not None
