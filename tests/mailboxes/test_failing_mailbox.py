"""A mailbox whose connection or login keeps failing pauses the enrollments that send
through it and alerts its user; they resume when it works again (issue 6, §5).
The counting and the decisions, without mail servers (see ..._mail.py for real ones)."""

import datetime as dt
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from cadency.accounts.models import Alert, Role, User
from cadency.inbound.watcher import sync_inbox_now
from cadency.ledger.models import Event
from cadency.mailboxes import health, services
from cadency.mailboxes.health import Side, record_mailbox_failure, record_mailbox_working
from cadency.mailboxes.models import Health, Mailbox, MailboxPause
from cadency.mailboxes.periodic import retest_failing_mailboxes
from cadency.mailboxes.services import MailboxCheck
from cadency.sequences.models import Enrollment, EnrollmentStatus, StepRunState
from cadency.sequences.services import recording
from cadency.sequences.services.enrollment import enroll, pause, resume
from tests.api.support import task_first_sequence
from tests.factories import make_contact, make_mailbox, make_user

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
LOGIN_REFUSED = "IMAP 127.0.0.1:1143: login refused (wrong username or password)"


@pytest.fixture
def rex() -> User:
    return make_user("rex", first_name="Rex", last_name="Rep")


@pytest.fixture
def mailbox(rex: User) -> Mailbox:
    return make_mailbox(rex)


def enrolled_through(mailbox: Mailbox, count: int) -> list[Enrollment]:
    sequence = task_first_sequence(mailbox.user, name=f"Intro {mailbox.pk}")
    return [
        enroll(
            contact=make_contact(),
            sequence=sequence,
            user=mailbox.user,
            mailbox=mailbox,
            run_first_step=False,
        )
        for _ in range(count)
    ]


def fail(mailbox: Mailbox, times: int, side: Side = Side.IMAP, start: int = 0) -> None:
    """``times`` failures, far enough apart to count one each."""
    for i in range(start, start + times):
        record_mailbox_failure(mailbox, side, LOGIN_REFUSED, now=T0 + dt.timedelta(minutes=i))


def statuses(enrollments: list[Enrollment]) -> list[str]:
    return [Enrollment.objects.get(pk=e.pk).status for e in enrollments]


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def connection_test(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[bool], list[int]]]:
    """Replace the network test: ``connection_test(ok)`` sets its answer and returns
    the ids of the mailboxes it tested."""
    tested: list[int] = []
    answer = {"ok": False}

    def fake(mailbox: Mailbox) -> MailboxCheck:
        tested.append(mailbox.pk)
        if answer["ok"]:
            return MailboxCheck(True, True, True, [])
        error = "SMTP 127.0.0.1:2525: login refused (wrong username or password): 535"
        return MailboxCheck(False, True, True, [error], smtp_error=error)

    monkeypatch.setattr(services, "test_connection", fake)

    def set_answer(ok: bool) -> list[int]:
        answer["ok"] = ok
        return tested

    yield set_answer


def test_three_failures_in_a_row_pause_the_enrollments_and_alert_the_user(
    rex: User, mailbox: Mailbox
) -> None:
    enrollments = enrolled_through(mailbox, 2)

    fail(mailbox, 3)

    assert statuses(enrollments) == [EnrollmentStatus.PAUSED] * 2
    assert MailboxPause.objects.filter(mailbox=mailbox, done=False).count() == 2
    mailbox.refresh_from_db()
    assert (mailbox.health, mailbox.imap_failures) == (Health.FAILING, 3)
    assert mailbox.failing_since == T0
    [event] = Event.objects.filter(kind="mailbox_failing")
    assert event.data["paused"] == 2 and event.data["side"] == "imap"
    assert "keeps failing" in event.sentence and "Rex Rep was alerted" in event.sentence
    paused = Event.objects.filter(kind="paused_mailbox_failing", enrollment=enrollments[0]).get()
    assert f"the mailbox {mailbox.email} keeps failing: {LOGIN_REFUSED}" in paused.sentence
    [alert] = Alert.objects.filter(user=rex)
    assert alert.is_open and alert.link == f"/mailboxes/{mailbox.pk}/"
    assert alert.title == f"The mailbox {mailbox.email} keeps failing"
    assert "2 enrollments sending through it are paused" in alert.body


def test_the_alert_shows_on_the_alerts_page_and_in_the_navigation(
    rex: User, mailbox: Mailbox
) -> None:
    enrolled_through(mailbox, 1)
    client = signed_in(rex)
    assert 'aria-label="Alerts: ' not in client.get("/contacts/").content.decode()

    fail(mailbox, 3)

    page = client.get("/contacts/").content.decode()
    assert 'aria-label="Alerts: 1 open"' in page
    alerts = client.get("/alerts/").content.decode()
    assert f"The mailbox {mailbox.email} keeps failing" in alerts
    assert "1 enrollment sending through it is paused" in alerts
    assert f'href="/mailboxes/{mailbox.pk}/"' in alerts
    detail = client.get(f"/mailboxes/{mailbox.pk}/").content.decode()
    assert "1 enrollment</strong> sending through this mailbox is paused" in detail
    assert "Failed in a row: SMTP 0, IMAP 3" in detail


def test_fewer_failures_than_the_limit_pause_nothing(rex: User, mailbox: Mailbox) -> None:
    enrollments = enrolled_through(mailbox, 2)
    fail(mailbox, 2)
    assert statuses(enrollments) == [EnrollmentStatus.ACTIVE] * 2
    assert not Alert.objects.exists()
    mailbox.refresh_from_db()
    assert (mailbox.health, mailbox.imap_failures) == (Health.FAILING, 2)


def test_failures_close_together_count_once(mailbox: Mailbox) -> None:
    enrollments = enrolled_through(mailbox, 1)
    for second in range(0, 25, 5):  # a batch of sends refused together, quick reconnects
        record_mailbox_failure(
            mailbox, Side.SMTP, "cannot connect", now=T0 + dt.timedelta(seconds=second)
        )
    mailbox.refresh_from_db()
    assert mailbox.smtp_failures == 1
    assert statuses(enrollments) == [EnrollmentStatus.ACTIVE]


def test_the_limit_is_a_setting(settings: Any, mailbox: Mailbox) -> None:
    settings.CADENCY_MAILBOX_FAILURES_BEFORE_PAUSE = 5
    enrollments = enrolled_through(mailbox, 1)
    fail(mailbox, 4)
    assert statuses(enrollments) == [EnrollmentStatus.ACTIVE]
    fail(mailbox, 1, start=4)
    assert statuses(enrollments) == [EnrollmentStatus.PAUSED]


def test_a_success_in_between_starts_the_count_again(mailbox: Mailbox) -> None:
    enrollments = enrolled_through(mailbox, 1)
    fail(mailbox, 2)
    record_mailbox_working(mailbox, [Side.IMAP], via="the mailbox was read")
    fail(mailbox, 2, start=2)
    assert statuses(enrollments) == [EnrollmentStatus.ACTIVE]
    mailbox.refresh_from_db()
    assert mailbox.imap_failures == 2


def test_a_working_inbox_does_not_hide_a_failing_smtp_server(mailbox: Mailbox) -> None:
    enrollments = enrolled_through(mailbox, 1)
    fail(mailbox, 2, Side.SMTP)
    record_mailbox_working(mailbox, [Side.IMAP], via="the mailbox was read")
    fail(mailbox, 1, Side.SMTP, start=2)
    assert statuses(enrollments) == [EnrollmentStatus.PAUSED]
    record_mailbox_working(mailbox, [Side.IMAP], via="the mailbox was read")
    assert statuses(enrollments) == [EnrollmentStatus.PAUSED], "SMTP still fails"


def test_when_it_works_again_the_enrollments_resume_and_the_alert_closes(
    rex: User, mailbox: Mailbox
) -> None:
    enrollments = enrolled_through(mailbox, 2)
    fail(mailbox, 3)
    overdue = enrollments[0].step_runs.get(position=1)
    overdue.due_at = timezone.now() - dt.timedelta(days=1)
    overdue.save(update_fields=["due_at"])

    resumed = record_mailbox_working(mailbox, [Side.IMAP, Side.SMTP], via="connection test")

    assert resumed == 2
    assert statuses(enrollments) == [EnrollmentStatus.ACTIVE] * 2
    overdue.refresh_from_db()
    assert (
        overdue.state == StepRunState.SCHEDULED
        and overdue.due_at >= timezone.now() - dt.timedelta(seconds=5)
    )
    mailbox.refresh_from_db()
    assert (mailbox.health, mailbox.imap_failures, mailbox.failing_since) == (Health.OK, 0, None)
    assert mailbox.last_error == ""
    assert set(MailboxPause.objects.values_list("outcome", flat=True)) == {"resumed"}
    assert Event.objects.filter(kind="resumed_mailbox_fixed").count() == 2
    assert Event.objects.get(kind="mailbox_working_again").data["resumed"] == 2
    alert = Alert.objects.get(user=rex)
    assert not alert.is_open and alert.resolved_at is not None
    assert "works again (connection test); 2 enrollments resumed" in alert.resolution
    assert 'aria-label="Alerts: ' not in signed_in(rex).get("/contacts/").content.decode()
    assert record_mailbox_working(mailbox, [Side.IMAP], via="again") == 0, "healthy: nothing to do"


def test_an_enrollment_a_person_paused_stays_paused_after_the_fix(
    rex: User, mailbox: Mailbox
) -> None:
    held, running = enrolled_through(mailbox, 2)
    pause(enrollment=held, actor=rex)

    fail(mailbox, 3)
    assert not MailboxPause.objects.filter(enrollment=held).exists(), "not ours to pause"
    record_mailbox_working(mailbox, [Side.IMAP], via="connection test")

    assert statuses([held, running]) == [EnrollmentStatus.PAUSED, EnrollmentStatus.ACTIVE]


def test_a_person_who_resumed_and_paused_again_keeps_their_pause(
    rex: User, mailbox: Mailbox
) -> None:
    [enrollment] = enrolled_through(mailbox, 1)
    fail(mailbox, 3)
    resume(enrollment=enrollment, actor=rex)
    pause(enrollment=enrollment, actor=rex)

    record_mailbox_working(mailbox, [Side.IMAP], via="connection test")

    assert statuses([enrollment]) == [EnrollmentStatus.PAUSED]
    assert MailboxPause.objects.get().outcome == "paused_by_someone"


def test_a_failure_after_a_person_resumed_it_pauses_it_again(rex: User, mailbox: Mailbox) -> None:
    [enrollment] = enrolled_through(mailbox, 1)
    fail(mailbox, 3)
    resume(enrollment=enrollment, actor=rex)

    fail(mailbox, 1, start=3)

    assert statuses([enrollment]) == [EnrollmentStatus.PAUSED]
    outcomes = list(MailboxPause.objects.order_by("pk").values_list("done", "outcome"))
    assert outcomes == [(True, "resumed_by_someone"), (False, "")]
    record_mailbox_working(mailbox, [Side.IMAP], via="connection test")
    assert statuses([enrollment]) == [EnrollmentStatus.ACTIVE]


def test_other_mailboxes_are_not_touched(rex: User, mailbox: Mailbox) -> None:
    other = make_mailbox(make_user("olga"))
    theirs = enrolled_through(other, 1)
    enrolled_through(mailbox, 1)
    fail(mailbox, 3)
    assert statuses(theirs) == [EnrollmentStatus.ACTIVE]
    assert not Alert.objects.filter(user=other.user).exists()


def test_one_open_alert_per_problem_and_a_dismissal_sticks_until_it_is_fixed(
    rex: User, mailbox: Mailbox
) -> None:
    enrolled_through(mailbox, 1)
    fail(mailbox, 5)
    alert = Alert.objects.get()
    client = signed_in(rex)

    response = client.post(f"/alerts/{alert.pk}/dismiss/", follow=True)

    assert "Dismissed" in response.content.decode()
    assert 'aria-label="Alerts: ' not in response.content.decode()
    assert Event.objects.get(kind="alert_dismissed").actor == rex
    fail(mailbox, 2, start=5)
    assert Alert.objects.count() == 1 and not Alert.objects.get().is_open
    record_mailbox_working(mailbox, [Side.IMAP], via="connection test")
    fail(mailbox, 3, start=7)
    assert Alert.objects.count() == 2 and Alert.objects.latest("pk").is_open


def test_nobody_else_can_dismiss_an_alert(rex: User, mailbox: Mailbox) -> None:
    fail(mailbox, 3)
    alert = Alert.objects.get()
    intruder = signed_in(make_user("ivy", role=Role.ADMIN))
    assert intruder.post(f"/alerts/{alert.pk}/dismiss/").status_code == 404
    assert intruder.post("/alerts/999999/dismiss/").status_code == 404
    assert intruder.get(f"/alerts/{alert.pk}/dismiss/").status_code == 405
    alert.refresh_from_db()
    assert alert.is_open
    assert alert.title not in intruder.get("/alerts/").content.decode()


def test_a_refused_send_counts_once_its_transaction_commits(
    mailbox: Mailbox, django_capture_on_commit_callbacks: Any
) -> None:
    enrollments = enrolled_through(mailbox, 1)
    for minute in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            recording.mark_mailbox(
                mailbox,
                Health.FAILING,
                "cannot connect: refused",
                T0 + dt.timedelta(minutes=minute),
            )
    assert statuses(enrollments) == [EnrollmentStatus.PAUSED]
    mailbox.refresh_from_db()
    assert mailbox.smtp_failures == 3

    recording.mark_mailbox_working(mailbox)

    assert statuses(enrollments) == [EnrollmentStatus.ACTIVE]


def test_the_connection_test_counts_and_fixes(
    rex: User,
    mailbox: Mailbox,
    connection_test: Callable[[bool], list[int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(health, "SAME_FAILURE", dt.timedelta(0))
    enrollments = enrolled_through(mailbox, 1)
    client = signed_in(rex)
    connection_test(False)
    for _ in range(3):
        client.post(f"/mailboxes/{mailbox.pk}/test/")
    assert statuses(enrollments) == [EnrollmentStatus.PAUSED]
    mailbox.refresh_from_db()
    assert (mailbox.smtp_failures, mailbox.imap_failures) == (3, 0)

    connection_test(True)
    client.post(f"/mailboxes/{mailbox.pk}/test/")

    assert statuses(enrollments) == [EnrollmentStatus.ACTIVE]
    assert "works again (connection test)" in Alert.objects.get().resolution


def test_the_periodic_retest_notices_a_fixed_server_and_skips_healthy_mailboxes(
    rex: User, mailbox: Mailbox, connection_test: Callable[[bool], list[int]]
) -> None:
    healthy = make_mailbox(make_user("hal"))
    enrollments = enrolled_through(mailbox, 1)
    fail(mailbox, 3)
    tested = connection_test(True)

    assert retest_failing_mailboxes() == 1

    assert tested == [mailbox.pk], f"the healthy mailbox {healthy.pk} is not tested"
    assert statuses(enrollments) == [EnrollmentStatus.ACTIVE]
    assert "works again (periodic re-test)" in Alert.objects.get().resolution
    tested.clear()
    assert retest_failing_mailboxes() == 0 and tested == []


def test_new_credentials_are_tested_before_they_are_saved_then_resume(
    rex: User, mailbox: Mailbox, connection_test: Callable[[bool], list[int]]
) -> None:
    enrollments = enrolled_through(mailbox, 1)
    fail(mailbox, 3)
    client = signed_in(rex)
    old_secret = Mailbox.objects.get(pk=mailbox.pk).secret_encrypted

    connection_test(False)
    refused = client.post(f"/mailboxes/{mailbox.pk}/credentials/", {"secret": "still-wrong"})

    assert refused.status_code == 400
    assert "nothing was saved" in refused.content.decode()
    assert Mailbox.objects.get(pk=mailbox.pk).secret_encrypted == old_secret
    assert statuses(enrollments) == [EnrollmentStatus.PAUSED]

    connection_test(True)
    saved = client.post(f"/mailboxes/{mailbox.pk}/credentials/", {"secret": "n3w-passw0rd"})

    assert saved.status_code == 302
    assert Mailbox.objects.get(pk=mailbox.pk).secret == "n3w-passw0rd"
    assert statuses(enrollments) == [EnrollmentStatus.ACTIVE]
    assert Event.objects.get(kind="mailbox_credentials_changed").actor == rex
    assert "works again (new credentials)" in Alert.objects.get().resolution


def test_a_rep_cannot_change_another_reps_credentials(rex: User, mailbox: Mailbox) -> None:
    other = signed_in(make_user("ruth"))
    assert other.get(f"/mailboxes/{mailbox.pk}/credentials/").status_code == 403
    assert other.post(f"/mailboxes/{mailbox.pk}/credentials/", {"secret": "x"}).status_code == 403
    assert signed_in(rex).get("/mailboxes/999999/credentials/").status_code == 404


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_check_before_a_send_counts_an_unreachable_imap_server(rex: User) -> None:
    mailbox = make_mailbox(rex, imap_port=closed_port())
    with pytest.raises(OSError):
        sync_inbox_now(mailbox)
    mailbox.refresh_from_db()
    assert mailbox.imap_failures == 1 and mailbox.health == Health.FAILING
    assert mailbox.last_error.startswith(f"IMAP 127.0.0.1:{mailbox.imap_port}: ")
