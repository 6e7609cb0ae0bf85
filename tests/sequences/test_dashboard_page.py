"""The Manage tab: every sequence with its counts; creating and deleting a sequence."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cadency.accounts.models import Role
from cadency.ledger.models import Event
from cadency.sequences.models import Enrollment, EnrollmentStatus, Sequence, UnenrollReason
from cadency.sequences.services.enrollment import pause, unenroll
from tests.factories import make_sequence
from tests.sequences.pages import client_for, enroll_some, messages_of, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def team() -> Any:
    return person("alice"), person("bob"), person("boss", Role.MANAGER)


def test_the_manage_tab_shows_each_sequences_counts_and_rates(team: Any) -> None:
    alice, bob, _ = team
    sequence = make_sequence(alice, name="Intro")
    active, paused, replied, bounced, manual = enroll_some(alice, sequence, 5)
    pause(enrollment=paused, actor=alice)
    unenroll(enrollment=replied, reason=UnenrollReason.REPLIED)
    unenroll(enrollment=bounced, reason=UnenrollReason.BOUNCED)
    unenroll(enrollment=manual, reason=UnenrollReason.MANUAL, actor=alice)
    Enrollment.objects.filter(pk=active.pk).update(
        status=EnrollmentStatus.FINISHED, reason=UnenrollReason.FINISHED
    )
    make_sequence(bob, name="Demo")
    response = client_for(bob).get("/sequences/")
    assert response.status_code == 200
    rows = {row.sequence.name: row for row in response.context["rows"]}
    intro = rows["Intro"]
    counts = (
        intro.sequence.step_count,
        intro.sequence.active_count,
        intro.sequence.paused_count,
        intro.sequence.finished_count,
        intro.sequence.unenrolled_count,
    )
    assert counts == (2, 0, 1, 1, 3)
    assert (intro.rates.reply, intro.rates.meeting, intro.rates.bounce) == (20.0, 0.0, 20.0)
    assert rows["Demo"].sequence.enrolled_count == 0
    html = response.content.decode()
    assert f'href="/sequences/{sequence.pk}/">Intro</a>' in html
    assert f'action="/sequences/{sequence.pk}/delete/"' not in html, "bob does not own Intro"


def test_the_manage_tab_runs_one_query_for_all_the_counts(team: Any) -> None:
    alice, _, _ = team
    make_sequence(alice, name="One")
    client = client_for(alice)
    client.get("/sequences/")
    with CaptureQueriesContext(connection) as few:
        client.get("/sequences/")
    for n in range(5):
        enroll_some(alice, make_sequence(alice, name=f"More {n}"), 2, domain=f"m{n}.test")
    with CaptureQueriesContext(connection) as many:
        response = client.get("/sequences/")
    assert len(response.context["rows"]) == 6
    assert len(many) == len(few)


def test_a_new_sequence_opens_on_its_steps_tab(team: Any) -> None:
    alice, _, _ = team
    response = client_for(alice).post("/sequences/new/", {"name": "  Q3 outbound  "})
    sequence = Sequence.objects.get()
    assert response.status_code == 302 and response.url == f"/sequences/{sequence.pk}/"
    assert (sequence.name, sequence.owner) == ("Q3 outbound", alice)
    step = sequence.current_steps().get()
    assert step.kind == "task", "a first step that emails nobody until it is written"
    assert Event.objects.filter(kind="sequence_created", sequence=sequence).exists()


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_a_bad_name_creates_nothing_and_says_why(team: Any, name: str) -> None:
    alice, _, _ = team
    response = client_for(alice).post("/sequences/new/", {"name": name})
    assert response.status_code == 302 and response.url == "/sequences/"
    assert messages_of(response)[0].startswith("The sequence was not created:")
    assert not Sequence.objects.exists()


def test_the_owner_deletes_a_sequence_and_its_open_enrollments_end(team: Any) -> None:
    alice, _, _ = team
    sequence = make_sequence(alice, name="Intro")
    enrollments = enroll_some(alice, sequence, 2)
    response = client_for(alice).post(f"/sequences/{sequence.pk}/delete/")
    assert response.status_code == 302
    assert messages_of(response) == [
        "Deleted «Intro»; 2 open enrollments ended (sequence deleted). "
        "Its history and reports are kept."
    ]
    sequence.refresh_from_db()
    assert sequence.archived_at is not None
    for e in enrollments:
        e.refresh_from_db()
        assert (e.status, e.reason) == ("unenrolled", "sequence_deleted")
    listed = client_for(alice).get("/sequences/").context["rows"]
    assert listed == [], "deleted sequences leave the list"
    deleted = client_for(alice).get("/sequences/?deleted=1").context["rows"]
    assert [row.sequence.pk for row in deleted] == [sequence.pk]


def test_a_rep_cannot_delete_another_reps_sequence(team: Any) -> None:
    alice, bob, _ = team
    sequence = make_sequence(alice, name="Intro")
    (enrollment,) = enroll_some(alice, sequence, 1)
    response = client_for(bob).post(f"/sequences/{sequence.pk}/delete/")
    assert response.status_code == 403
    sequence.refresh_from_db()
    enrollment.refresh_from_db()
    assert sequence.archived_at is None and enrollment.status == "active"


def test_a_manager_may_delete_any_sequence(team: Any) -> None:
    alice, _, boss = team
    sequence = make_sequence(alice, name="Intro")
    assert client_for(boss).post(f"/sequences/{sequence.pk}/delete/").status_code == 302
    sequence.refresh_from_db()
    assert sequence.archived_at is not None


def test_deleting_needs_a_post_and_a_real_sequence(team: Any) -> None:
    alice, _, _ = team
    sequence = make_sequence(alice, name="Intro")
    client = client_for(alice)
    assert client.get(f"/sequences/{sequence.pk}/delete/").status_code == 405
    assert client.post("/sequences/999999/delete/").status_code == 404
    sequence.refresh_from_db()
    assert sequence.archived_at is None


def test_deleting_twice_changes_nothing_the_second_time(team: Any) -> None:
    alice, _, _ = team
    sequence = make_sequence(alice, name="Intro")
    client = client_for(alice)
    client.post(f"/sequences/{sequence.pk}/delete/")
    client.get("/sequences/")  # shows, and so consumes, the first message
    events = Event.objects.count()
    response = client.post(f"/sequences/{sequence.pk}/delete/")
    assert messages_of(response) == ["«Intro» was already deleted; nothing changed."]
    assert Event.objects.count() == events


def test_pages_need_a_signed_in_user() -> None:
    from django.test import Client

    response = Client().get("/sequences/")
    assert response.status_code == 302 and response.url.startswith("/login/")
