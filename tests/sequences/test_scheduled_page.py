"""The Scheduled tab: every upcoming step, soonest first, filters, Unenroll per row."""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cadency.accounts.models import Role
from cadency.sequences.models import StepRun, StepRunState
from cadency.sequences.services.enrollment import enroll
from tests.factories import make_contact, make_sequence
from tests.sequences.pages import client_for, enroll_some, person

pytestmark = pytest.mark.django_db
URL = "/sequences/scheduled/"


@pytest.fixture
def team() -> Any:
    alice = person("alice")
    bob = person("bob")
    boss = person("boss", Role.MANAGER)
    return alice, bob, boss, make_sequence(alice, name="Intro"), make_sequence(bob, name="Demo")


def due_in(run_owner: Any, sequence: Any, hours: int) -> StepRun:
    enrollment = enroll(
        contact=make_contact(),
        sequence=sequence,
        user=run_owner,
        run_first_step=False,
        start_at=timezone.now() + dt.timedelta(hours=hours),
    )
    return enrollment.step_runs.get()


def shown(response: Any) -> list[int]:
    return [row.run.pk for row in response.context["rows"]]


def test_upcoming_steps_are_listed_soonest_first(team: Any) -> None:
    alice, bob, _, intro, demo = team
    later = due_in(alice, intro, 30)
    soon = due_in(bob, demo, 2)
    middle = due_in(alice, intro, 10)
    done = due_in(alice, intro, 1)
    StepRun.objects.filter(pk=done.pk).update(state=StepRunState.SENT)
    response = client_for(alice).get(URL)
    assert response.status_code == 200
    assert shown(response) == [soon.pk, middle.pk, later.pk]
    html = response.content.decode()
    assert "UTC" in html, "times carry their zone"
    assert "Step 1 · Automated email" in html
    assert f'href="/contacts/{soon.enrollment.contact_id}/"' in html


def test_it_filters_by_user_and_by_sequence(team: Any) -> None:
    alice, bob, _, intro, demo = team
    a1 = due_in(alice, intro, 1)
    a2 = due_in(alice, demo, 2)
    b1 = due_in(bob, demo, 3)
    client = client_for(alice)
    assert shown(client.get(f"{URL}?user={alice.pk}")) == [a1.pk, a2.pk]
    assert shown(client.get(f"{URL}?sequence={demo.pk}")) == [a2.pk, b1.pk]
    assert shown(client.get(f"{URL}?user={bob.pk}&sequence={demo.pk}")) == [b1.pk]


def test_a_garbage_filter_is_reported_and_ignored(team: Any) -> None:
    alice, _, _, intro, _ = team
    run = due_in(alice, intro, 1)
    response = client_for(alice).get(f"{URL}?user=nobody&sequence=999999")
    assert response.status_code == 200
    assert shown(response) == [run.pk]
    assert "Select a valid choice" in response.content.decode()


def test_unenroll_is_offered_only_where_the_user_may_act(team: Any) -> None:
    alice, bob, boss, intro, demo = team
    mine = due_in(alice, intro, 1)
    theirs = due_in(bob, demo, 2)
    html = client_for(alice).get(f"{URL}?sequence={intro.pk}").content.decode()
    assert f'action="/enrollments/{mine.enrollment_id}/unenroll/"' in html
    assert 'class="on-hover"' in html
    assert f'name="next" value="{URL}?sequence={intro.pk}"' in html
    html = client_for(alice).get(URL).content.decode()
    assert f'action="/enrollments/{theirs.enrollment_id}/unenroll/"' not in html
    html = client_for(boss).get(URL).content.decode()
    assert f'action="/enrollments/{theirs.enrollment_id}/unenroll/"' in html


def test_unenrolling_from_a_row_returns_to_the_same_filtered_page(team: Any) -> None:
    alice, _, _, intro, _ = team
    run = due_in(alice, intro, 1)
    back = f"{URL}?sequence={intro.pk}&page=1"
    response = client_for(alice).post(f"/enrollments/{run.enrollment_id}/unenroll/", {"next": back})
    assert response.status_code == 302 and response.url == back
    run.refresh_from_db()
    assert run.state == StepRunState.CANCELLED
    assert shown(client_for(alice).get(back)) == []


def test_the_page_runs_a_constant_number_of_queries(
    team: Any, django_assert_max_num_queries: Any
) -> None:
    alice, bob, _, intro, demo = team
    enroll_some(alice, intro, 2)
    client = client_for(alice)
    client.get(URL)
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    enroll_some(alice, intro, 30)
    enroll_some(bob, demo, 30, domain="demo.test")
    with django_assert_max_num_queries(len(few)):
        response = client.get(URL)
    assert len(response.context["rows"]) == 50
    second = client.get(URL + "?page=2")
    assert len(second.context["rows"]) == 12
