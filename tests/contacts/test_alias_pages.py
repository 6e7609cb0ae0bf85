"""Adding and removing a contact's additional addresses from its record."""

import pytest

from cadency.accounts.models import User
from cadency.contacts.models import ContactEmail
from cadency.contacts.services import add_alias
from cadency.ledger.models import Event
from tests.contacts.support import signed_in
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def aliases() -> list[tuple[str, str]]:
    return sorted(ContactEmail.objects.values_list("contact__email", "email"))


def test_adding_an_alias_lists_it_on_the_record(alice: User) -> None:
    jane = make_contact("jane@acme.test")
    client = signed_in(alice)
    response = client.post(f"/contacts/{jane.pk}/aliases/", {"email": " Jane.Doe@Acme.test "})
    assert response.status_code == 302
    assert response["Location"] == f"/contacts/{jane.pk}/#addresses"
    assert aliases() == [("jane@acme.test", "jane.doe@acme.test")]
    page = client.get(f"/contacts/{jane.pk}/").content.decode()
    assert "Added jane.doe@acme.test to jane@acme.test." in page
    assert 'data-confirm="Remove jane.doe@acme.test from jane@acme.test?"' in page


def test_an_invalid_address_is_refused_with_the_reason_and_nothing_is_added(alice: User) -> None:
    jane = make_contact("jane@acme.test")
    response = signed_in(alice).post(f"/contacts/{jane.pk}/aliases/", {"email": "not an address"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "&#x27;not an address&#x27; is not a valid email address" in page
    assert 'value="not an address"' in page, "the typed value is kept"
    assert aliases() == []


def test_an_empty_address_is_refused(alice: User) -> None:
    jane = make_contact("jane@acme.test")
    response = signed_in(alice).post(f"/contacts/{jane.pk}/aliases/", {"email": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert aliases() == []


def test_an_address_of_another_contact_is_refused(alice: User) -> None:
    jane = make_contact("jane@acme.test")
    sam = make_contact("sam@acme.test")
    add_alias(contact=sam, email="team@acme.test")
    client = signed_in(alice)
    for taken, owner in [("sam@acme.test", "sam@acme.test"), ("team@acme.test", "sam@acme.test")]:
        response = client.post(f"/contacts/{jane.pk}/aliases/", {"email": taken})
        assert response.status_code == 400
        assert f"{taken} already belongs to {owner}" in response.content.decode()
    assert aliases() == [("sam@acme.test", "team@acme.test")]


def test_the_primary_address_cannot_be_added_as_an_alias(alice: User) -> None:
    jane = make_contact("jane@acme.test")
    response = signed_in(alice).post(f"/contacts/{jane.pk}/aliases/", {"email": "jane@acme.test"})
    assert response.status_code == 400
    assert "jane@acme.test is already the primary address" in response.content.decode()


def test_removing_an_alias_takes_it_off_and_records_who_did_it(alice: User) -> None:
    jane = make_contact("jane@acme.test")
    add_alias(contact=jane, email="jd@acme.test")
    client = signed_in(alice)
    response = client.post(f"/contacts/{jane.pk}/aliases/remove/", {"email": "jd@acme.test"})
    assert response.status_code == 302
    assert aliases() == []
    event = Event.objects.get(kind="alias_removed")
    assert (event.contact, event.actor) == (jane, alice)
    page = client.get(f"/contacts/{jane.pk}/").content.decode()
    assert "Removed jd@acme.test from jane@acme.test." in page


def test_removing_an_address_that_is_not_an_alias_of_this_contact_changes_nothing(
    alice: User,
) -> None:
    jane = make_contact("jane@acme.test")
    sam = make_contact("sam@acme.test")
    add_alias(contact=sam, email="team@acme.test")
    client = signed_in(alice)
    for address, why in [
        ("team@acme.test", "team@acme.test is not an additional address of jane@acme.test"),
        ("jane@acme.test", "jane@acme.test is the primary address of the contact"),
        ("bad address", "is not a valid email address"),
        ("", "Say which address to remove."),
    ]:
        response = client.post(f"/contacts/{jane.pk}/aliases/remove/", {"email": address})
        assert response.status_code == 400, address
        assert why in response.content.decode().replace("&#x27;", "'"), address
    assert aliases() == [("sam@acme.test", "team@acme.test")]
    assert not Event.objects.filter(kind="alias_removed").exists()


def test_alias_changes_on_an_unknown_contact_are_not_found(alice: User) -> None:
    client = signed_in(alice)
    assert client.post("/contacts/999999/aliases/", {"email": "x@acme.test"}).status_code == 404
    remove = client.post("/contacts/999999/aliases/remove/", {"email": "x@acme.test"})
    assert remove.status_code == 404
    assert aliases() == []


def test_alias_endpoints_only_accept_post(alice: User) -> None:
    jane = make_contact("jane@acme.test")
    client = signed_in(alice)
    assert client.get(f"/contacts/{jane.pk}/aliases/").status_code == 405
    assert client.get(f"/contacts/{jane.pk}/aliases/remove/").status_code == 405


def test_a_deleted_contacts_addresses_cannot_change(alice: User) -> None:
    from django.utils import timezone

    jane = make_contact("jane@acme.test", deleted_at=timezone.now())
    add_alias(contact=jane, email="jd@acme.test")
    client = signed_in(alice)
    added = client.post(f"/contacts/{jane.pk}/aliases/", {"email": "new@acme.test"})
    removed = client.post(f"/contacts/{jane.pk}/aliases/remove/", {"email": "jd@acme.test"})
    for response in (added, removed):
        assert response.status_code == 400
        assert "This contact was deleted" in response.content.decode()
    assert aliases() == [("jane@acme.test", "jd@acme.test")]


def test_signed_out_alias_changes_go_to_the_login_page() -> None:
    from django.test import Client

    jane = make_contact("jane@acme.test")
    response = Client().post(f"/contacts/{jane.pk}/aliases/", {"email": "x@acme.test"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert aliases() == []
