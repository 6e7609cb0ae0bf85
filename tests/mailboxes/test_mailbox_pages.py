"""The Mailboxes pages: list, detail, connect, test, limits — and who may do what."""

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cadency.accounts.models import Role, User
from cadency.ledger.models import Event
from cadency.mailboxes.models import FolderSyncState, Health, Mailbox, WatcherLease
from cadency.sequences.models import Enrollment, StepRun, StepRunState
from cadency.sequences.services.claiming import send_quota
from tests.factories import make_contact, make_mailbox, make_user
from tests.inbound.support import enrolled
from tests.mailstack import MailStack

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 28, 10, 30, tzinfo=dt.UTC)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_text(client: Client, url: str, **params: Any) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def claimed(enrollment: Enrollment, position: int, at: dt.datetime, state: str) -> StepRun:
    step = enrollment.sequence.current_steps()[0]
    position += 10  # after the runs enroll() made
    return StepRun.objects.create(
        enrollment=enrollment,
        step=step,
        position=position,
        mailbox=enrollment.mailbox,
        due_at=at,
        claimed_at=at,
        state=state,
    )


def connect_form(**fields: Any) -> dict[str, Any]:
    return {
        "email": "rep@example.test",
        "display_name": "Rep Example",
        "username": "",
        "auth_method": "password",
        "secret": "correct-password",
        "smtp_host": "127.0.0.1",
        "smtp_port": 2525,
        "smtp_security": "starttls",
        "imap_host": "127.0.0.1",
        "imap_port": 1143,
        "imap_security": "starttls",
        "sent_folder": "Sent",
        "sent_copy": "append",
        "daily_limit": 200,
        "per_minute_limit": 10,
        "time_zone": "Europe/Paris",
        **fields,
    }


# --- the list and the detail ----------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_rep_sees_their_mailboxes_health_sync_watcher_and_usage() -> None:
    alice = make_user("alice")
    mailbox = make_mailbox(alice, daily_limit=40, per_minute_limit=7)
    failing = make_mailbox(alice, "alice.old@example.test", health=Health.FAILING)
    failing.last_error = "IMAP 127.0.0.1:1143: login refused (wrong username or password)"
    failing.save()
    make_mailbox(make_user("bob"), "bob@example.test")
    FolderSyncState.objects.create(
        mailbox=mailbox, folder="INBOX", uidvalidity=7, last_uid=42, last_synced_at=NOW
    )
    WatcherLease.objects.create(
        mailbox=mailbox, holder="host-a:1234", expires_at=NOW + dt.timedelta(seconds=10)
    )
    WatcherLease.objects.create(
        mailbox=failing, holder="host-b:99", expires_at=NOW - dt.timedelta(minutes=5)
    )
    enrollment = enrolled(alice, make_contact("jane@acme.test"))
    for position in (1, 2, 3):
        claimed(enrollment, position, NOW - dt.timedelta(hours=1), StepRunState.SENT)

    html = page_text(signed_in(alice), "/mailboxes/")
    assert "alice@example.test" in html and "alice.old@example.test" in html
    assert "bob@example.test" not in html, "a rep sees only their own mailboxes"
    assert '<span class="badge active">ok</span>' in html
    assert '<span class="badge unenrolled">failing</span>' in html
    assert "login refused (wrong username or password)" in html
    assert "<strong>INBOX</strong>:" in html and "0\xa0minutes ago" in html
    assert "never read" in html, "the failing mailbox's INBOX was never read"
    assert '<span class="badge active">watching</span> <span class="small">host-a:1234' in html
    assert "lease expired" in html and "host-b:99" in html
    assert "3 / 40" in html and "7 / min" in html
    assert ">append<" in html


def test_every_watched_folder_shows_its_last_sync() -> None:
    alice = make_user("alice")
    mailbox = make_mailbox(alice, watched_folders=["INBOX", "Réponses"])
    for folder, uid in (("INBOX", 5), ("Archive", 9)):
        FolderSyncState.objects.create(
            mailbox=mailbox, folder=folder, last_uid=uid, last_synced_at=NOW
        )
    html = page_text(signed_in(alice), f"/mailboxes/{mailbox.pk}/")
    assert "Watched folders</dt><dd>INBOX, Réponses</dd>" in html
    assert "<strong>INBOX</strong>:" in html and "last UID 5" in html
    assert "<strong>Réponses</strong>:" in html and "never read" in html
    assert '<strong>Archive</strong> <span class="muted">(no longer watched)</span>' in html


def test_a_manager_sees_everyones_mailboxes_and_filters_them_by_user() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    make_mailbox(alice)
    make_mailbox(bob)
    client = signed_in(make_user("mo", role=Role.MANAGER))
    html = page_text(client, "/mailboxes/")
    assert "alice@example.test" in html and "bob@example.test" in html
    assert "owner: Alice Example" in html
    html = page_text(client, "/mailboxes/", user=bob.pk)
    assert "bob@example.test" in html and "alice@example.test" not in html
    response = client.get("/mailboxes/", {"user": "999999"})
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()


def test_the_list_runs_a_constant_number_of_queries() -> None:
    client = signed_in(make_user("mo", role=Role.MANAGER))

    def add_mailboxes(count: int) -> None:
        for _ in range(count):
            mailbox = make_mailbox(make_user(), time_zone="Asia/Tokyo")
            FolderSyncState.objects.create(mailbox=mailbox, last_synced_at=NOW)
            WatcherLease.objects.create(mailbox=mailbox, holder="w", expires_at=NOW)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/mailboxes/").status_code == 200
        return len(captured)

    add_mailboxes(1)
    few = queries()
    add_mailboxes(6)
    assert queries() == few


@time_machine.travel(NOW, tick=False)
def test_sent_today_counts_what_the_sender_counts_from_midnight_in_the_mailbox_zone() -> None:
    alice = make_user("alice")
    # 10:30 UTC is 23:30 in Auckland (NZDT, +13): its day began at 11:00 UTC the day before.
    auckland = make_mailbox(alice, time_zone="Pacific/Auckland", daily_limit=10)
    enrollment = enrolled(alice, make_contact("jane@acme.test"))
    Enrollment.objects.filter(pk=enrollment.pk).update(mailbox=auckland)
    enrollment.refresh_from_db()
    yesterday_1130 = dt.datetime(2026, 11, 27, 11, 30, tzinfo=dt.UTC)
    claimed(enrollment, 1, yesterday_1130, StepRunState.SENT)  # today in Auckland
    claimed(enrollment, 2, yesterday_1130, StepRunState.BOUNCED)  # counted too
    claimed(enrollment, 3, yesterday_1130 - dt.timedelta(hours=1), StepRunState.SENT)  # before
    claimed(enrollment, 4, NOW - dt.timedelta(hours=2), StepRunState.CANCELLED)  # never sent
    claimed(enrollment, 5, NOW - dt.timedelta(hours=2), StepRunState.SCHEDULED)

    html = page_text(signed_in(alice), f"/mailboxes/{auckland.pk}/")
    assert "2 / 10" in html
    assert send_quota(auckland, enrollment, NOW).remaining == 10 - 2, "the sender agrees"


def test_the_detail_shows_the_connection_but_never_the_password() -> None:
    alice = make_user("alice")
    mailbox = make_mailbox(alice, display_name="Alice <b>Sales</b>")
    html = page_text(signed_in(alice), f"/mailboxes/{mailbox.pk}/")
    assert "alice@example.test" in html and "127.0.0.1" in html
    assert "Alice &lt;b&gt;Sales&lt;/b&gt;" in html and "<b>Sales</b>" not in html
    assert mailbox.secret not in html and mailbox.secret_encrypted not in html
    assert f"/mailboxes/{mailbox.pk}/limits/" in html, "the owner may edit the limits"


def test_a_rep_gets_403_on_another_reps_mailbox_and_404_on_unknown_ids() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    theirs = make_mailbox(bob, daily_limit=50)
    client = signed_in(alice)
    assert client.get(f"/mailboxes/{theirs.pk}/").status_code == 403
    assert client.post(f"/mailboxes/{theirs.pk}/test/").status_code == 403
    assert client.get(f"/mailboxes/{theirs.pk}/limits/").status_code == 403
    response = client.post(
        f"/mailboxes/{theirs.pk}/limits/",
        {"daily_limit": 9999, "per_minute_limit": 1, "time_zone": "UTC"},
    )
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert (theirs.daily_limit, theirs.health) == (50, Health.OK)
    for url in ("/mailboxes/999999/", "/mailboxes/999999/limits/"):
        assert client.get(url).status_code == 404
    assert client.post("/mailboxes/999999/test/").status_code == 404


# --- limits ---------------------------------------------------------------------------


def test_the_owner_changes_limits_and_time_zone_and_the_ledger_says_so() -> None:
    alice = make_user("alice")
    mailbox = make_mailbox(alice, daily_limit=500, per_minute_limit=100)
    client = signed_in(alice)
    assert page_text(client, f"/mailboxes/{mailbox.pk}/limits/").count("<select") == 1
    response = client.post(
        f"/mailboxes/{mailbox.pk}/limits/",
        {"daily_limit": 120, "per_minute_limit": 100, "time_zone": "Europe/Berlin"},
        follow=True,
    )
    html = response.content.decode()
    assert "Daily send limit 500 → 120; Time zone UTC → Europe/Berlin" in html
    mailbox.refresh_from_db()
    assert (mailbox.daily_limit, mailbox.per_minute_limit, mailbox.time_zone) == (
        120,
        100,
        "Europe/Berlin",
    )
    event = Event.objects.get(kind="mailbox_limits_changed")
    assert event.actor == alice and event.data["before"]["daily_limit"] == 500
    assert "Alice Example changed the mailbox alice@example.test" in event.sentence


def test_bad_limits_are_refused_with_their_error_and_change_nothing() -> None:
    alice = make_user("alice")
    mailbox = make_mailbox(alice, daily_limit=500)
    response = signed_in(alice).post(
        f"/mailboxes/{mailbox.pk}/limits/",
        {"daily_limit": 0, "per_minute_limit": "many", "time_zone": "Mars/Olympus"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Ensure this value is greater than or equal to 1." in html
    assert "Enter a whole number." in html
    assert "Select a valid choice. Mars/Olympus is not one of the available choices." in html
    mailbox.refresh_from_db()
    assert (mailbox.daily_limit, mailbox.time_zone) == (500, "UTC")
    assert not Event.objects.filter(kind="mailbox_limits_changed").exists()


def test_only_the_owner_or_an_admin_changes_limits_not_a_manager() -> None:
    mailbox = make_mailbox(make_user("alice"), daily_limit=500)
    limits = {"daily_limit": 80, "per_minute_limit": 5, "time_zone": "UTC"}
    manager = signed_in(make_user("mo", role=Role.MANAGER))
    assert "/limits/" not in page_text(manager, f"/mailboxes/{mailbox.pk}/")
    assert manager.post(f"/mailboxes/{mailbox.pk}/limits/", limits).status_code == 403
    mailbox.refresh_from_db()
    assert mailbox.daily_limit == 500

    admin = signed_in(make_user("root", role=Role.ADMIN))
    assert admin.post(f"/mailboxes/{mailbox.pk}/limits/", limits).status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.daily_limit == 80


# --- connect --------------------------------------------------------------------------


def test_bad_connect_input_is_refused_writes_nothing_and_never_shows_the_password() -> None:
    alice = make_user("alice")
    response = signed_in(alice).post(
        "/mailboxes/connect/",
        connect_form(email="not-an-address", daily_limit=0, secret="hunter2-secret"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a valid email address." in html
    assert "Ensure this value is greater than or equal to 1." in html
    assert "hunter2-secret" not in html
    assert not Mailbox.objects.exists() and not Event.objects.exists()


def test_connecting_a_mailbox_twice_gets_the_services_error() -> None:
    alice = make_user("alice")
    make_mailbox(alice, "rep@example.test")
    response = signed_in(alice).post("/mailboxes/connect/", connect_form())
    assert response.status_code == 400
    assert "already has the mailbox rep@example.test" in response.content.decode()
    assert Mailbox.objects.count() == 1 and not Event.objects.exists()


def test_only_an_admin_picks_the_owner() -> None:
    rep_form = page_text(signed_in(make_user("alice")), "/mailboxes/connect/")
    admin_form = page_text(signed_in(make_user("root", role=Role.ADMIN)), "/mailboxes/connect/")
    assert 'name="owner"' not in rep_form and 'name="owner"' in admin_form


@pytest.mark.mail
def test_connecting_checks_the_mailbox_then_saves_it(mailstack: MailStack) -> None:
    alice = make_user("alice")
    form = connect_form(
        secret=mailstack.password, smtp_port=mailstack.smtp_port, imap_port=mailstack.imap_port
    )
    response = signed_in(alice).post("/mailboxes/connect/", form, follow=True)
    html = response.content.decode()
    assert "Connected rep@example.test: SMTP, IMAP and the Sent folder answered." in html
    mailbox = Mailbox.objects.get()
    assert (mailbox.user, mailbox.username, mailbox.health) == (alice, "rep@example.test", "ok")
    assert (mailbox.daily_limit, mailbox.per_minute_limit, mailbox.time_zone) == (
        200,
        10,
        "Europe/Paris",
    )
    assert mailbox.secret == mailstack.password
    assert mailstack.password not in mailbox.secret_encrypted and mailstack.password not in html
    assert Event.objects.get().kind == "mailbox_connected"


@pytest.mark.mail
def test_an_admin_connects_a_mailbox_for_another_user(mailstack: MailStack) -> None:
    alice = make_user("alice")
    admin = make_user("root", role=Role.ADMIN)
    form = connect_form(
        owner=alice.pk,
        secret=mailstack.password,
        smtp_port=mailstack.smtp_port,
        imap_port=mailstack.imap_port,
    )
    assert signed_in(admin).post("/mailboxes/connect/", form).status_code == 302
    assert Mailbox.objects.get().user == alice


@pytest.mark.mail
def test_a_wrong_password_shows_the_checks_error_and_writes_nothing(mailstack: MailStack) -> None:
    alice = make_user("alice")
    form = connect_form(
        secret="wrong-password", smtp_port=mailstack.smtp_port, imap_port=mailstack.imap_port
    )
    response = signed_in(alice).post("/mailboxes/connect/", form)
    assert response.status_code == 400
    html = response.content.decode()
    assert "The connection test failed, so nothing was saved:" in html
    assert f"SMTP 127.0.0.1:{mailstack.smtp_port}: login refused (wrong username or password)" in (
        html
    )
    assert f"IMAP 127.0.0.1:{mailstack.imap_port}: login refused (wrong username or password)" in (
        html
    )
    assert "wrong-password" not in html
    assert not Mailbox.objects.exists() and not Event.objects.exists()


@pytest.mark.mail
def test_the_test_button_shows_the_smtp_and_imap_results(mailstack: MailStack) -> None:
    alice = make_user("alice")
    mailbox = make_mailbox(alice, "rep@example.test", health=Health.UNKNOWN)
    client = signed_in(alice)
    response = client.post(f"/mailboxes/{mailbox.pk}/test/", {"next": "/mailboxes/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/mailboxes/"
    assert (
        "rep@example.test passed its test: SMTP ok, IMAP ok, Sent folder ok."
        in response.content.decode()
    )
    mailbox.refresh_from_db()
    assert mailbox.health == Health.OK and mailbox.last_checked_at is not None

    mailbox.set_secret("wrong-password")
    mailbox.save()
    response = client.post(f"/mailboxes/{mailbox.pk}/test/", follow=True)
    html = response.content.decode()
    assert "rep@example.test failed its test: SMTP failed, IMAP failed, Sent folder failed." in html
    assert "login refused (wrong username or password)" in html
    mailbox.refresh_from_db()
    assert mailbox.health == Health.FAILING


@pytest.mark.mail
def test_a_manager_may_test_a_reps_mailbox(mailstack: MailStack) -> None:
    mailbox = make_mailbox(make_user("alice"), "rep@example.test")
    manager = signed_in(make_user("mo", role=Role.MANAGER))
    response = manager.post(f"/mailboxes/{mailbox.pk}/test/", follow=True)
    assert "rep@example.test passed its test" in response.content.decode()
