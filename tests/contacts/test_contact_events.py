import pytest

from cadency.contacts.models import Company
from cadency.contacts.services import add_alias, upsert_contact
from cadency.ledger.models import Event
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_creating_a_contact_writes_contact_created_with_the_actor() -> None:
    rep = make_user("ria")
    contact, created = upsert_contact(email="jane@acme.test", first_name="Jane", actor=rep)
    assert created
    event = Event.objects.get(kind="contact_created")
    assert (event.contact, event.actor) == (contact, rep)
    assert event.sentence == "Ria Example created the contact jane@acme.test."


def test_updating_a_contact_names_the_fields_that_changed() -> None:
    upsert_contact(email="jane@acme.test", first_name="Jane")
    upsert_contact(
        email="jane@acme.test", first_name="Janet", company_name="Acme", company_domain="acme.test"
    )
    event = Event.objects.get(kind="contact_updated")
    company = Company.objects.get(name="Acme")
    assert event.data == {
        "fields": ["first_name", "company"],
        "changes": {"first_name": ["Jane", "Janet"], "company": [None, company.pk]},
    }
    assert "changed the first_name, company of jane@acme.test" in event.sentence


def test_an_upsert_that_changes_nothing_writes_no_event() -> None:
    upsert_contact(email="jane@acme.test", first_name="Jane")
    upsert_contact(email="jane@acme.test", first_name="Jane")
    assert not Event.objects.filter(kind="contact_updated").exists()


def test_adding_an_alias_writes_alias_added_once() -> None:
    rep = make_user("ria")
    contact, _ = upsert_contact(email="jane@acme.test")
    add_alias(contact=contact, email="j.doe@acme.test", actor=rep)
    add_alias(contact=contact, email="j.doe@acme.test", actor=rep)
    event = Event.objects.get(kind="alias_added")
    assert event.data == {"email": "j.doe@acme.test"}
    assert event.sentence == "Ria Example added the address j.doe@acme.test to jane@acme.test."
