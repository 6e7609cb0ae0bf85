"""The Tasks queue: grouped by day in the viewer's time zone; complete and skip."""

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import SettingsWrapper

from cadency.accounts.models import Role, User
from cadency.contacts.models import Contact
from cadency.ledger.models import Event
from cadency.sequences.models import StepRunState, Task, TaskStatus
from cadency.sequences.services.enrollment import enroll
from cadency.sequences.services.task_completion import complete_task
from tests.factories import ALWAYS_OPEN, make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db

WAITING = [
    {"type": "call", "title": "Call {{ contact.first_name }}", "pause_until_complete": True},
    {"type": "task", "delay": 1, "title": "Send the brochure"},
]
# 02:00 UTC on Wednesday 12 March is still Tuesday 11 March, 22:00, in New York.
NOW = dt.datetime(2025, 3, 12, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def fast_passwords(settings: SettingsWrapper) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ada() -> User:
    user = make_user("ada")
    make_mailbox(user, time_zone="America/New_York")
    return user


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sequence_task(user: User, contact: Contact | None = None) -> Task:
    """An open call task from the first step of a sequence that waits for it."""
    if not user.mailboxes.exists():
        make_mailbox(user)
    sequence = make_sequence(user, steps=WAITING, **ALWAYS_OPEN)
    enrollment = enroll(contact=contact or make_contact(), sequence=sequence, user=user)
    return Task.objects.get(step_run__enrollment=enrollment)


def loose_task(user: User, title: str, due_at: dt.datetime) -> Task:
    return Task.objects.create(
        assignee=user, contact=make_contact(), kind="call", title=title, due_at=due_at
    )


def section_of(html: str, key: str) -> str:
    match = re.search(rf'<section class="tasks-section" id="{key}".*?</section>', html, re.DOTALL)
    assert match is not None, key
    return match.group(0)


def test_tasks_are_grouped_by_day_in_the_mailbox_time_zone(ada: User) -> None:
    with time_machine.travel(NOW, tick=False):
        loose_task(ada, "Yesterday in New York", dt.datetime(2025, 3, 11, 3, 0, tzinfo=dt.UTC))
        loose_task(ada, "This morning in New York", dt.datetime(2025, 3, 11, 14, 0, tzinfo=dt.UTC))
        loose_task(ada, "Later tonight", dt.datetime(2025, 3, 12, 3, 30, tzinfo=dt.UTC))
        loose_task(ada, "Tomorrow in New York", dt.datetime(2025, 3, 12, 4, 0, tzinfo=dt.UTC))
        done = loose_task(ada, "Already done", dt.datetime(2025, 3, 11, 14, 0, tzinfo=dt.UTC))
        done.status = TaskStatus.COMPLETED
        done.save()
        loose_task(make_user("bob"), "Bob's task", dt.datetime(2025, 3, 11, 14, 0, tzinfo=dt.UTC))
        html = client_for(ada).get("/tasks/").content.decode()
    assert "America/New_York, the time zone of your mailbox" in html
    assert "Today is Tuesday 11 March 2025" in html
    overdue, today, upcoming = (section_of(html, k) for k in ("overdue", "today", "upcoming"))
    assert "Yesterday in New York" in overdue
    assert "Mon 10 Mar, 23:00" in overdue, "shown in New York time"
    assert "This morning in New York" in today
    assert "10:00" in today
    assert "Later tonight" in today
    assert "Tomorrow in New York" in upcoming
    assert "Already done" not in html
    assert "Bob&#x27;s task" not in html, "a rep's queue is their own by default"


def test_a_sequence_task_shows_its_contact_sequence_and_step(ada: User) -> None:
    contact = make_contact("jane@acme.test", first_name="Jane")
    task = sequence_task(ada, contact)
    html = client_for(ada).get("/tasks/").content.decode()
    row = section_of(html, "today")
    assert f'href="/contacts/{contact.pk}/"' in row
    assert "Call Jane" in row
    assert "Call task" in row
    assert task.step_run is not None
    sequence = task.step_run.enrollment.sequence
    assert f'href="/sequences/{sequence.pk}/"' in row
    assert "step 1" in row
    assert f'action="/tasks/{task.pk}/complete/"' in row


def test_completing_a_task_advances_the_enrollment(ada: User) -> None:
    task = sequence_task(ada)
    response = client_for(ada).post(f"/tasks/{task.pk}/complete/", {"next": "/tasks/?assignee=all"})
    assert response.status_code == 302
    assert response["Location"] == "/tasks/?assignee=all"
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED
    assert task.step_run is not None
    assert task.step_run.state == StepRunState.DONE
    assert task.step_run.enrollment.step_runs.filter(position=2).exists()
    assert Event.objects.filter(kind="task_completed", actor=ada).exists()


def test_skipping_a_task_advances_the_enrollment(ada: User) -> None:
    task = sequence_task(ada)
    page = client_for(ada).post(f"/tasks/{task.pk}/skip/", follow=True)
    assert "Skipped “Call Jane”." in page.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.SKIPPED
    assert task.step_run is not None
    assert task.step_run.enrollment.step_runs.filter(position=2).exists()
    assert Event.objects.filter(kind="task_skipped").count() == 1


def test_an_unsafe_next_goes_back_to_the_queue(ada: User) -> None:
    task = sequence_task(ada)
    response = client_for(ada).post(
        f"/tasks/{task.pk}/complete/", {"next": "https://evil.example.com/"}
    )
    assert response["Location"] == "/tasks/"


def test_a_rep_may_not_complete_or_skip_someone_elses_task(ada: User) -> None:
    task = sequence_task(ada)
    bob = client_for(make_user("bob"))
    assert bob.post(f"/tasks/{task.pk}/complete/").status_code == 403
    assert bob.post(f"/tasks/{task.pk}/skip/").status_code == 403
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    assert not Event.objects.filter(kind__in=["task_completed", "task_skipped"]).exists()
    html = bob.get("/tasks/", {"assignee": "all"}).content.decode()
    assert "Call Jane" in html, "reps see everyone's tasks"
    assert f"/tasks/{task.pk}/complete/" not in html, "but get no buttons on them"


def test_a_manager_may_complete_anyones_task_and_filter_by_assignee(ada: User) -> None:
    task = sequence_task(ada)
    bobs = loose_task(make_user("bob"), "Bob's call", task.due_at)
    manager = client_for(make_user("mo", role=Role.MANAGER))
    assert "Call Jane" not in manager.get("/tasks/").content.decode()
    everyone = manager.get("/tasks/", {"assignee": "all"}).content.decode()
    assert "Call Jane" in everyone
    assert "Bob&#x27;s call" in everyone
    only_bob = manager.get("/tasks/", {"assignee": bobs.assignee_id}).content.decode()
    assert "Bob&#x27;s call" in only_bob
    assert "Call Jane" not in only_bob
    manager.post(f"/tasks/{task.pk}/complete/")
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED


def test_a_task_no_longer_open_gets_a_message_and_nothing_changes(ada: User) -> None:
    task = sequence_task(ada)
    complete_task(task=task, actor=ada)
    task.refresh_from_db()
    completed_at = task.completed_at
    events = Event.objects.count()
    page = client_for(ada).post(f"/tasks/{task.pk}/skip/", follow=True)
    assert "Could not skip “Call Jane”: the task is already completed; nothing was changed." in (
        page.content.decode()
    )
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED
    assert task.completed_at == completed_at
    assert Event.objects.count() == events


def test_unknown_ids_and_bad_filters_are_clear_errors(ada: User) -> None:
    client = client_for(ada)
    assert client.post("/tasks/999999/complete/").status_code == 404
    assert client.post("/tasks/999999/skip/").status_code == 404
    assert client.get("/tasks/", {"assignee": "999999"}).status_code == 404
    assert client.get("/tasks/", {"assignee": "bob"}).status_code == 400
    task = sequence_task(ada)
    assert client.get(f"/tasks/{task.pk}/complete/").status_code == 405


def test_sections_are_paginated_with_a_constant_number_of_queries(ada: User) -> None:
    client = client_for(ada)
    with time_machine.travel(NOW, tick=False):
        loose_task(ada, "Old task 0", NOW - dt.timedelta(days=3))
        with CaptureQueriesContext(connection) as few:
            client.get("/tasks/")
        for n in range(1, 31):
            loose_task(ada, f"Old task {n}", NOW - dt.timedelta(days=3, minutes=-n))
        with CaptureQueriesContext(connection) as many:
            first = client.get("/tasks/").content.decode()
        second = client.get("/tasks/", {"overdue_page": 2}).content.decode()
    assert len(many) == len(few)
    overdue = section_of(first, "overdue")
    assert overdue.count("<tr id=") == 25
    assert "Page 1 of 2" in overdue
    assert "overdue_page=2" in overdue
    assert section_of(second, "overdue").count("<tr id=") == 6
