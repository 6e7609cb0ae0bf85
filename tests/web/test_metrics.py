"""/metrics: Prometheus figures read from the database at scrape time, for the
scraper only (a bearer token, else loopback clients)."""

import datetime as dt
import itertools
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from prometheus_client.parser import text_string_to_metric_families
from pytest_django.fixtures import SettingsWrapper

from cadency.accounts.models import Alert
from cadency.inbound.models import InboundMessage, InboundStatus
from cadency.mailboxes.models import FolderSyncState, Health, WatcherLease
from cadency.sequences.models import Enrollment, StepRun, StepRunState, UnenrollReason
from cadency.sequences.services.enrollment import enroll, pause, unenroll
from tests.factories import make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db
LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}
_uids = itertools.count(1)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: Client | None = None, **headers: Any) -> Any:
    return (client or Client()).get("/metrics", **{**LOOPBACK, **headers})


def samples(response: Any) -> Samples:
    assert response.status_code == 200, response.content
    found: Samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


@pytest.fixture
def rep() -> Any:
    user = make_user("alice")
    make_mailbox(user, "alice@example.test")
    return user


def enrolled(rep: Any, sequence: Any, **options: Any) -> Enrollment:
    return enroll(
        contact=make_contact(), sequence=sequence, user=rep, run_first_step=False, **options
    )


def inbound(rep: Any, label: str, decision: str, status: str = InboundStatus.PROCESSED) -> None:
    InboundMessage.objects.create(
        mailbox=rep.mailboxes.get(),
        folder="INBOX",
        uidvalidity=1,
        uid=next(_uids),
        raw=b"",
        status=status,
        label=label,
        decision=decision,
    )


def test_metrics_are_served_in_the_prometheus_text_format_to_a_loopback_client(
    rep: Any,
) -> None:
    response = scrape()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE cadency_due_step_lag_seconds gauge" in response.content.decode()
    found = samples(response)
    assert value(found, "cadency_due_step_lag_seconds") == 0, "nothing due"
    assert value(found, "cadency_task_queue_depth", queue="mail", status="ready") == 0


def test_an_openmetrics_scraper_gets_openmetrics(rep: Any) -> None:
    response = scrape(HTTP_ACCEPT="application/openmetrics-text; version=1.0.0")
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.decode().rstrip().endswith("# EOF")


def test_queue_depth_and_due_step_lag_come_from_the_database(rep: Any) -> None:
    sequence = make_sequence(rep)
    late = enrolled(rep, sequence)
    enrolled(rep, sequence, start_at=timezone.now() + dt.timedelta(hours=2))
    paused = enrolled(rep, sequence)
    pause(enrollment=paused, actor=rep)
    five_minutes_ago = timezone.now() - dt.timedelta(minutes=5)
    StepRun.objects.filter(enrollment__in=[late, paused]).update(due_at=five_minutes_ago)
    DBTaskResult.objects.filter(pk=late.step_runs.get().task_id).update(
        status=TaskResultStatus.RUNNING
    )
    DBTaskResult.objects.filter(pk=paused.step_runs.get().task_id).update(
        run_after=timezone.now() - dt.timedelta(minutes=10)
    )

    found = samples(scrape())
    assert value(found, "cadency_task_queue_depth", queue="mail", status="ready") == 2
    assert value(found, "cadency_task_queue_depth", queue="mail", status="running") == 1
    assert 600 <= value(found, "cadency_task_queue_lag_seconds", queue="mail") < 630, (
        "the ready task due 10 minutes ago; the one due in 2 hours is not late"
    )
    assert value(found, "cadency_task_queue_lag_seconds", queue="default") == 0
    assert value(found, "cadency_due_steps") == 1, "the paused one and the future one wait"
    assert 300 <= value(found, "cadency_due_step_lag_seconds") < 330


def test_sends_count_sent_step_runs_in_total_and_since_midnight(rep: Any) -> None:
    sequence = make_sequence(rep)
    today, yesterday, sending = (enrolled(rep, sequence) for _ in range(3))
    now = timezone.now()
    StepRun.objects.filter(enrollment=today).update(state=StepRunState.SENT, executed_at=now)
    StepRun.objects.filter(enrollment=yesterday).update(
        state=StepRunState.SENT, executed_at=now - dt.timedelta(days=1, minutes=1)
    )
    StepRun.objects.filter(enrollment=sending).update(state=StepRunState.SENDING, claimed_at=now)

    found = samples(scrape())
    assert value(found, "cadency_sends_total") == 2
    assert value(found, "cadency_sends_today") == 1
    mailbox = rep.mailboxes.get()
    labels = {"mailbox_id": str(mailbox.pk), "mailbox": "alice@example.test"}
    assert value(found, "cadency_mailbox_sends_today", **labels) == 1, (
        "counted as against the daily limit: what was claimed today"
    )
    assert value(found, "cadency_mailbox_daily_limit", **labels) == 500


def test_each_mailbox_shows_its_sync_lag_its_watcher_and_its_health(rep: Any) -> None:
    now = timezone.now()
    watched = rep.mailboxes.get()
    FolderSyncState.objects.create(mailbox=watched, folder="INBOX", last_synced_at=now)
    FolderSyncState.objects.create(
        mailbox=watched, folder="Replies", last_synced_at=now - dt.timedelta(hours=1)
    )
    WatcherLease.objects.create(
        mailbox=watched, holder="host:1:2", expires_at=now + dt.timedelta(seconds=10)
    )
    stale = make_mailbox(make_user("bob"), "bob@example.test", health=Health.FAILING)
    FolderSyncState.objects.create(
        mailbox=stale, folder="INBOX", last_synced_at=now - dt.timedelta(minutes=10)
    )
    WatcherLease.objects.create(
        mailbox=stale, holder="host:9:9", expires_at=now - dt.timedelta(seconds=1)
    )
    never = make_mailbox(make_user("carol"), "carol@example.test")

    found = samples(scrape())

    def of(mailbox: Any) -> dict[str, str]:
        return {"mailbox_id": str(mailbox.pk), "mailbox": mailbox.email}

    assert value(found, "cadency_mailbox_sync_lag_seconds", **of(watched)) < 5, "newest folder"
    assert 600 <= value(found, "cadency_mailbox_sync_lag_seconds", **of(stale)) < 630
    assert value(found, "cadency_mailbox_sync_lag_seconds", **of(never)) < 5, (
        "a mailbox never read counts from when it was connected"
    )
    assert value(found, "cadency_mailbox_watched", **of(watched)) == 1
    assert value(found, "cadency_mailbox_watched", **of(stale)) == 0, "its lease expired"
    assert value(found, "cadency_mailbox_watched", **of(never)) == 0
    assert value(found, "cadency_mailbox_failing", **of(stale)) == 1
    assert value(found, "cadency_mailbox_failing", **of(watched)) == 0
    assert value(found, "cadency_watcher_leases_held") == 1
    assert value(found, "cadency_mailboxes") == 3


def test_enrollments_by_status_and_unenrollments_by_reason(rep: Any) -> None:
    sequence = make_sequence(rep)
    running = [enrolled(rep, sequence) for _ in range(4)]
    unenroll(enrollment=running[0], reason=UnenrollReason.REPLIED)
    unenroll(enrollment=running[1], reason=UnenrollReason.REPLIED)
    unenroll(enrollment=running[2], reason=UnenrollReason.MANUAL, actor=rep)

    found = samples(scrape())
    assert value(found, "cadency_enrollments", status="active") == 1
    assert value(found, "cadency_enrollments", status="unenrolled") == 3
    assert value(found, "cadency_enrollments", status="paused") == 0
    assert value(found, "cadency_unenrollments_total", reason="replied") == 2
    assert value(found, "cadency_unenrollments_total", reason="manual") == 1


def test_inbound_messages_by_status_label_and_decision_and_open_alerts(rep: Any) -> None:
    inbound(rep, "human_reply", "unenrolled")
    inbound(rep, "human_reply", "unenrolled")
    inbound(rep, "auto_reply", "timeline_only")
    inbound(rep, "", "", status=InboundStatus.FAILED)
    Alert.objects.create(user=rep, kind="mailbox_failing", key="mailbox_failing:1", title="x")
    Alert.objects.create(
        user=rep, kind="mailbox_failing", key="k2", title="y", resolved_at=timezone.now()
    )

    found = samples(scrape())
    name = "cadency_inbound_messages_total"
    processed = {"status": "processed"}
    assert value(found, name, **processed, label="human_reply", decision="unenrolled") == 2
    assert value(found, name, **processed, label="auto_reply", decision="timeline_only") == 1
    assert value(found, name, status="failed", label="none", decision="none") == 1
    assert value(found, "cadency_open_alerts", kind="mailbox_failing") == 1


def test_a_scrape_runs_a_fixed_number_of_queries_however_much_data_there_is(
    rep: Any, django_assert_max_num_queries: Any
) -> None:
    sequence = make_sequence(rep)
    for n in range(5):
        user = make_user(f"rep{n}x")
        make_mailbox(user)
        enrollment = enrolled(user, sequence)
        unenroll(enrollment=enrollment, reason=UnenrollReason.BOUNCED)
        inbound(rep, "hard_bounce", "unenrolled")
    client = Client()
    with django_assert_max_num_queries(8):
        assert scrape(client).status_code == 200


def test_with_a_token_only_the_bearer_of_it_may_scrape(rep: Any, settings: SettingsWrapper) -> None:
    settings.CADENCY_METRICS_TOKEN = "s3cret-scrape-token"
    assert scrape().status_code == 401, "loopback is not enough once a token is set"
    wrong = scrape(HTTP_AUTHORIZATION="Bearer not-it")
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"].startswith("Bearer")
    assert b"cadency_" not in wrong.content
    remote = Client().get(
        "/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token"
    )
    assert remote.status_code == 200
    assert b"cadency_due_step_lag_seconds" in remote.content


def test_without_a_token_remote_and_proxied_clients_are_refused(rep: Any) -> None:
    remote = Client().get("/metrics", REMOTE_ADDR="203.0.113.7")
    assert remote.status_code == 403
    assert b"CADENCY_METRICS_TOKEN" in remote.content
    proxied = scrape(HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert proxied.status_code == 403, "a reverse proxy on this host is not the scraper"
    assert Client().get("/metrics", REMOTE_ADDR="::1").status_code == 200


def test_metrics_need_no_session_and_refuse_writes(rep: Any) -> None:
    response = scrape()
    assert response.status_code == 200, "not redirected to the login page"
    assert Client().post("/metrics", **LOOPBACK).status_code == 405


def test_the_live_scope_leaves_out_the_whole_table_totals(
    rep: Any, django_assert_max_num_queries: Any
) -> None:
    client = Client()
    with django_assert_max_num_queries(5):
        response = scrape(client, QUERY_STRING="scope=live")
    found = samples(response)
    names = {name for name, _ in found}
    assert "cadency_due_step_lag_seconds" in names
    assert "cadency_mailbox_sync_lag_seconds" in names
    assert not names & {"cadency_sends_total", "cadency_enrollments", "cadency_unenrollments_total"}


def test_an_unknown_scope_is_refused_with_the_known_ones(rep: Any) -> None:
    response = Client().get("/metrics", {"scope": "everything"}, **LOOPBACK)
    assert response.status_code == 400
    assert b"all, live" in response.content
