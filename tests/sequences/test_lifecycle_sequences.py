"""A sequence deleted: its open enrollments end ``sequence_deleted``; it is archived,
not erased, so its reports stay (issue 6, §5). From the Settings tab and the API."""

import pytest

from cadency.accounts.models import Role, User
from cadency.ledger.models import Event
from cadency.sequences.models import EnrollmentStatus, Sequence
from cadency.sequences.reports import performance
from tests.api.support import api_for, error_of, snapshot, task_first_sequence
from tests.sequences.pages import client_for, enroll_some, messages_of, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice() -> User:
    return person("alice")


@pytest.fixture
def bob() -> User:
    return person("bob")


@pytest.fixture
def maya() -> User:
    return person("maya", Role.MANAGER)


@pytest.fixture
def sequence(alice: User) -> Sequence:
    return task_first_sequence(alice, name="Intro")


def test_the_settings_tab_offers_deletion_with_the_number_of_open_enrollments(
    alice: User, sequence: Sequence
) -> None:
    enroll_some(alice, sequence, 3)
    html = client_for(alice).get(f"/sequences/{sequence.pk}/settings/").content.decode()
    assert "Delete this sequence" in html
    assert f'action="/sequences/{sequence.pk}/delete/"' in html
    assert 'data-confirm="Delete «Intro»? 3 open enrollments will end (sequence deleted).' in html


def test_a_rep_sees_no_delete_button_on_another_reps_sequence_and_is_refused(
    bob: User, alice: User, sequence: Sequence
) -> None:
    enroll_some(alice, sequence, 1)
    client = client_for(bob)
    assert (
        "Delete this sequence"
        not in client.get(f"/sequences/{sequence.pk}/settings/").content.decode()
    )
    before = snapshot()

    assert client.post(f"/sequences/{sequence.pk}/delete/").status_code == 403

    assert snapshot() == before
    sequence.refresh_from_db()
    assert sequence.archived_at is None


def test_deleting_from_the_settings_tab_archives_it_and_keeps_its_report(
    maya: User, alice: User, sequence: Sequence
) -> None:
    enrollments = enroll_some(alice, sequence, 2)
    before = performance(sequence)
    client = client_for(maya)

    response = client.post(f"/sequences/{sequence.pk}/delete/", follow=True)

    assert "Deleted «Intro»; 2 open enrollments ended" in " ".join(messages_of(response))
    sequence.refresh_from_db()
    assert sequence.archived_at is not None
    for enrollment in enrollments:
        enrollment.refresh_from_db()
        assert (enrollment.status, enrollment.reason) == (
            EnrollmentStatus.UNENROLLED,
            "sequence_deleted",
        )
    after = performance(sequence)
    assert (after.enrolled, after.steps) == (before.enrolled, before.steps)
    assert after.unenrolled_by_reason == {"sequence_deleted": 2}
    assert client.get(f"/sequences/{sequence.pk}/performance/").status_code == 200
    listed = client.get("/sequences/?deleted=1").content.decode()
    assert "Intro" in listed and "deleted" in listed
    assert "Intro" not in client.get("/sequences/").content.decode()
    settings_page = client.get(f"/sequences/{sequence.pk}/settings/").content.decode()
    assert "Delete this sequence" not in settings_page
    assert Event.objects.get(kind="sequence_deleted").actor == maya


def test_the_api_deletes_a_sequence_of_its_owner(alice: User, sequence: Sequence) -> None:
    enroll_some(alice, sequence, 2)
    api = api_for(alice)

    response = api.delete(f"/sequences/{sequence.pk}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == sequence.pk and body["enrollments_ended"] == 2 and body["deleted_at"]
    assert api.get(f"/sequences/{sequence.pk}").json()["deleted_at"] == body["deleted_at"]
    assert api.get("/sequences").json()["count"] == 0
    assert api.get("/sequences", include_deleted="true").json()["count"] == 1
    error_of(api.delete(f"/sequences/{sequence.pk}"), 409, "conflict")


def test_the_api_refuses_a_rep_deleting_another_reps_sequence(
    bob: User, alice: User, sequence: Sequence
) -> None:
    enroll_some(alice, sequence, 1)
    api = api_for(bob)
    before = snapshot()
    message = error_of(api.delete(f"/sequences/{sequence.pk}"), 403, "forbidden")
    assert "belongs to another user" in message
    error_of(api.delete("/sequences/999999"), 404, "not_found")
    assert snapshot() == before


def test_a_manager_deletes_any_sequence_through_the_api(maya: User, sequence: Sequence) -> None:
    assert api_for(maya).delete(f"/sequences/{sequence.pk}").status_code == 200
