"""A contact deleted: its enrollments end ``contact_deleted``, the ledger keeps a
snapshot, it leaves the lists, its history and the reports stay (issue 6, §5).
From the contact record and the API; who may do it."""

import pytest

from cadency.accounts.models import Role, User
from cadency.contacts.models import Contact, ContactEmail
from cadency.ledger.models import Event
from cadency.sequences.models import EnrollmentStatus, Sequence
from cadency.sequences.reports import performance
from cadency.sequences.services.enrollment import enroll
from cadency.sequences.services.lifecycle import delete_contact
from tests.api.support import api_for, error_of, snapshot, task_first_sequence
from tests.factories import make_company, make_contact
from tests.sequences.pages import client_for, messages_of, person

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


@pytest.fixture
def jane() -> Contact:
    contact = make_contact(
        "jane@acme.test",
        first_name="Jane",
        last_name="Doe",
        company=make_company(),
        properties={"title": "CTO"},
    )
    ContactEmail.objects.create(contact=contact, email="j.doe@acme.test")
    return contact


def test_deleting_keeps_a_snapshot_and_ends_the_enrollment(
    maya: User, alice: User, jane: Contact, sequence: Sequence
) -> None:
    enrollment = enroll(contact=jane, sequence=sequence, user=alice)
    before = performance(sequence)

    assert delete_contact(contact=jane, actor=maya) == 1

    enrollment.refresh_from_db()
    jane.refresh_from_db()
    assert jane.deleted_at is not None
    assert (enrollment.status, enrollment.reason) == (
        EnrollmentStatus.UNENROLLED,
        "contact_deleted",
    )
    event = Event.objects.get(kind="contact_deleted")
    assert event.actor == maya and event.contact == jane
    assert event.data["snapshot"] == {
        "email": "jane@acme.test",
        "first_name": "Jane",
        "last_name": "Doe",
        "company": "Acme",
        "aliases": ["j.doe@acme.test"],
        "properties": {"title": "CTO"},
    }
    after = performance(sequence)
    assert (after.enrolled, after.steps) == (before.enrolled, before.steps)
    assert delete_contact(contact=jane, actor=maya) == 0, "a second delete changes nothing"
    assert Event.objects.filter(kind="contact_deleted").count() == 1


def test_the_record_offers_delete_with_a_confirmation(
    maya: User, alice: User, jane: Contact, sequence: Sequence
) -> None:
    enroll(contact=jane, sequence=sequence, user=alice)
    html = client_for(maya).get(f"/contacts/{jane.pk}/").content.decode()
    assert f'action="/contacts/{jane.pk}/delete/"' in html
    assert 'data-confirm="Delete Jane Doe? 1 open enrollment will end (contact deleted).' in html


def test_deleting_from_the_record_removes_it_from_the_list_and_keeps_its_history(
    maya: User, alice: User, jane: Contact, sequence: Sequence
) -> None:
    enroll(contact=jane, sequence=sequence, user=alice)
    client = client_for(maya)

    response = client.post(f"/contacts/{jane.pk}/delete/", follow=True)

    assert response.redirect_chain[-1][0] == "/contacts/"
    assert "Deleted Jane Doe (jane@acme.test); 1 open enrollment ended" in " ".join(
        messages_of(response)
    )
    assert "jane@acme.test" not in client.get("/contacts/").content.decode()
    record = client.get(f"/contacts/{jane.pk}/").content.decode()
    assert "This contact was deleted" in record and "contact_deleted" in record
    assert "Delete contact" not in record
    again = client.post(f"/contacts/{jane.pk}/delete/", follow=True)
    assert "was already deleted; nothing changed" in " ".join(messages_of(again))


def test_a_rep_deletes_a_contact_they_own(alice: User, sequence: Sequence) -> None:
    mine = make_contact(owner=alice)
    enroll(contact=mine, sequence=sequence, user=alice)
    client = client_for(alice)
    assert "Delete contact" in client.get(f"/contacts/{mine.pk}/").content.decode()
    assert client.post(f"/contacts/{mine.pk}/delete/").status_code == 302
    mine.refresh_from_db()
    assert mine.deleted_at is not None


@pytest.mark.parametrize("case", ["not_owner", "owner_but_another_reps_enrollment"])
def test_a_rep_is_refused_and_nothing_changes(
    case: str, alice: User, bob: User, sequence: Sequence
) -> None:
    contact = make_contact(owner=bob if case == "owner_but_another_reps_enrollment" else alice)
    enroll(contact=contact, sequence=sequence, user=alice)
    client = client_for(bob)
    api = api_for(bob)
    assert "Delete contact" not in client.get(f"/contacts/{contact.pk}/").content.decode()
    before = snapshot()

    assert client.post(f"/contacts/{contact.pk}/delete/").status_code == 403
    message = error_of(api.delete(f"/contacts/{contact.pk}"), 403, "forbidden")

    expected = "would end their enrollment" if case != "not_owner" else "only the contacts they own"
    assert expected in message
    assert snapshot() == before


def test_the_api_deletes_a_contact(
    maya: User, alice: User, jane: Contact, sequence: Sequence
) -> None:
    enroll(contact=jane, sequence=sequence, user=alice)
    api = api_for(maya)

    response = api.delete(f"/contacts/{jane.pk}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["enrollments_ended"]) == (jane.pk, 1) and body["deleted_at"]
    assert api.get("/contacts").json()["count"] == 0
    assert api.get("/contacts", include_deleted="true").json()["count"] == 1
    assert api.get(f"/contacts/{jane.pk}").json()["deleted_at"] == body["deleted_at"]
    before = snapshot()
    error_of(api.delete(f"/contacts/{jane.pk}"), 409, "conflict")
    error_of(api.delete("/contacts/999999"), 404, "not_found")
    assert snapshot() == before
