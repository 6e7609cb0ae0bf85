"""/contacts: list and search, get, create or update (upsert), and their addresses."""

from typing import Any

import pytest
from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.models import Contact, ContactEmail
from cadency.ledger.models import Event
from tests.api.support import Api, error_of, snapshot
from tests.factories import make_company, make_contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def jane() -> Contact:
    contact = make_contact("jane@acme.test", company=make_company(), time_zone="Europe/Paris")
    ContactEmail.objects.create(contact=contact, email="j.doe@acme.test")
    return contact


def test_it_lists_contacts_by_address(as_alice: Api, jane: Contact) -> None:
    make_contact("aaron@beta.test", first_name="Aaron")
    page = as_alice.get("/contacts").json()
    assert page["count"] == 2
    assert [c["email"] for c in page["items"]] == ["aaron@beta.test", "jane@acme.test"]
    jane_out = page["items"][1]
    assert jane_out["company"]["name"] == "Acme"
    assert jane_out["aliases"] == ["j.doe@acme.test"]
    assert jane_out["name"] == "Jane Doe"


def test_it_searches_names_and_every_address(as_alice: Api, jane: Contact) -> None:
    make_contact("aaron@beta.test", first_name="Aaron", last_name="Smith")
    assert [c["email"] for c in as_alice.get("/contacts", search="j.doe").json()["items"]] == [
        "jane@acme.test"
    ]
    assert as_alice.get("/contacts", search="smith").json()["count"] == 1
    assert as_alice.get("/contacts", company=jane.company_id).json()["count"] == 1


def test_deleted_contacts_are_left_out_unless_asked(as_alice: Api, jane: Contact) -> None:
    jane.deleted_at = timezone.now()
    jane.save()
    assert as_alice.get("/contacts").json()["count"] == 0
    assert as_alice.get("/contacts", include_deleted=True).json()["count"] == 1


def test_it_shows_one_contact(as_alice: Api, jane: Contact) -> None:
    body = as_alice.get(f"/contacts/{jane.pk}").json()
    assert (body["email"], body["time_zone"]) == ("jane@acme.test", "Europe/Paris")


def test_an_unknown_contact_is_not_found(as_alice: Api) -> None:
    error_of(as_alice.get("/contacts/9999"), 404, "not_found")
    error_of(as_alice.get("/contacts/9999/emails"), 404, "not_found")


def test_it_creates_a_contact_with_company_and_aliases(as_alice: Api) -> None:
    response = as_alice.post(
        "/contacts",
        {
            "email": "Ray@Gamma.test",
            "first_name": "Ray",
            "company_name": "Gamma",
            "company_domain": "gamma.test",
            "time_zone": "America/New_York",
            "lifecycle_stage": "customer",
            "aliases": ["ray.work@gamma.test"],
            "properties": {"plan": "gold"},
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "ray@gamma.test"
    assert body["company"]["name"] == "Gamma"
    assert body["aliases"] == ["ray.work@gamma.test"]
    assert body["properties"] == {"plan": "gold"}


def test_posting_a_known_address_updates_that_contact(as_alice: Api, jane: Contact) -> None:
    response = as_alice.post("/contacts", {"email": "jane@acme.test", "last_name": "Roe"})
    assert response.status_code == 200
    jane.refresh_from_db()
    assert (jane.first_name, jane.last_name) == ("Jane", "Roe"), "left-out fields are kept"


def test_it_updates_a_contact_by_id(as_alice: Api, jane: Contact) -> None:
    response = as_alice.patch(f"/contacts/{jane.pk}", {"properties": {"tier": "1"}})
    assert response.status_code == 200, response.content
    assert response.json()["properties"] == {"tier": "1"}


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not an address"},
        {"email": "ray@gamma.test", "time_zone": "Mars/Olympus"},
        {"email": "ray@gamma.test", "lifecycle_stage": "royalty"},
        {"email": "ray@gamma.test", "first_name": "x" * 101},
        {"email": "ray@gamma.test", "first_name": "nul\x00byte"},
        {"email": "ray@gamma.test", "properties": {"k": "nul\x00"}},
        {"email": "j.doe@acme.test"},
        {"first_name": "No address"},
        {"email": "ray@gamma.test", "aliases": "not a list"},
    ],
)
def test_bad_contact_input_is_invalid_and_changes_nothing(
    as_alice: Api, jane: Contact, body: dict[str, Any]
) -> None:
    before = snapshot()
    error_of(as_alice.post("/contacts", body), 400, "invalid")
    assert snapshot() == before


def test_updating_an_unknown_contact_is_not_found(as_alice: Api) -> None:
    error_of(as_alice.patch("/contacts/9999", {"first_name": "X"}), 404, "not_found")


def test_it_lists_the_primary_address_then_the_aliases(as_alice: Api, jane: Contact) -> None:
    page = as_alice.get(f"/contacts/{jane.pk}/emails").json()
    assert page["items"] == [
        {"email": "jane@acme.test", "primary": True},
        {"email": "j.doe@acme.test", "primary": False},
    ]


def test_it_adds_an_alias(as_alice: Api, jane: Contact) -> None:
    response = as_alice.post(f"/contacts/{jane.pk}/emails", {"email": "JANE.D@acme.test"})
    assert response.status_code == 201
    assert response.json() == {"email": "jane.d@acme.test", "primary": False}
    assert jane.aliases.filter(email="jane.d@acme.test").exists()


def test_an_address_of_another_contact_cannot_be_added(as_alice: Api, jane: Contact) -> None:
    other = make_contact("ray@gamma.test")
    before = snapshot()
    message = error_of(
        as_alice.post(f"/contacts/{other.pk}/emails", {"email": "j.doe@acme.test"}),
        409,
        "conflict",
    )
    assert "jane@acme.test" in message
    assert snapshot() == before


def test_it_removes_an_alias_and_records_who(as_alice: Api, alice: User, jane: Contact) -> None:
    response = as_alice.delete(f"/contacts/{jane.pk}/emails/j.doe@acme.test")
    assert response.status_code == 204
    assert not jane.aliases.exists()
    event = Event.objects.get(kind="alias_removed")
    assert (event.contact, event.actor) == (jane, alice)
    assert "j.doe@acme.test" in event.sentence


@pytest.mark.parametrize(
    ("address", "status", "code"),
    [
        ("jane@acme.test", 409, "conflict"),
        ("nobody@acme.test", 404, "not_found"),
        ("not-an-address", 400, "invalid"),
    ],
)
def test_removing_what_is_not_an_alias_changes_nothing(
    as_alice: Api, jane: Contact, address: str, status: int, code: str
) -> None:
    before = snapshot()
    error_of(as_alice.delete(f"/contacts/{jane.pk}/emails/{address}"), status, code)
    assert snapshot() == before


def test_a_deleted_contacts_addresses_cannot_change(as_alice: Api, jane: Contact) -> None:
    jane.deleted_at = timezone.now()
    jane.save()
    before = snapshot()
    error_of(
        as_alice.post(f"/contacts/{jane.pk}/emails", {"email": "x@acme.test"}), 409, "conflict"
    )
    error_of(as_alice.delete(f"/contacts/{jane.pk}/emails/j.doe@acme.test"), 409, "conflict")
    assert snapshot() == before
