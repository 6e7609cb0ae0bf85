"""Editing a contact and a company from their pages: one ledger event per save, the
dynamic lists that follow, who may edit, and bad input that changes nothing."""

from typing import Any

import pytest
from django.test import Client

from cadency.accounts.models import Role, User
from cadency.automation.models import ListKind
from cadency.automation.services.lists import create_list
from cadency.contacts.models import Company, Contact
from cadency.contacts.permissions import may_edit_contact
from cadency.ledger.models import Event
from cadency.sequences.services.lifecycle import delete_contact
from tests.automation.support import run_automation
from tests.contacts.support import signed_in
from tests.factories import make_company, make_contact, make_user

pytestmark = pytest.mark.django_db


def html(response: Any, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.content[:500])
    return str(response.content.decode())


def form_of(contact: Contact, **changes: Any) -> dict[str, Any]:
    """What the edit form posts when nothing is touched, with ``changes`` applied."""
    properties = sorted(contact.properties.items())
    data: dict[str, Any] = {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "lifecycle_stage": contact.lifecycle_stage,
        "owner": contact.owner.username if contact.owner else "",
        "time_zone": contact.time_zone,
        "known_key": [k for k, _ in properties],
        "property_key": [k for k, _ in properties],
        "property_value": [str(v) for _, v in properties],
        "save": "1",
    }
    return data | changes


def contact_state(contact: Contact) -> tuple[Any, ...]:
    fresh = Contact.objects.get(pk=contact.pk)
    return (
        fresh.first_name,
        fresh.last_name,
        fresh.lifecycle_stage,
        fresh.owner_id,
        fresh.time_zone,
        fresh.properties,
        Event.objects.count(),
    )


@pytest.fixture
def jane(alice: User) -> Contact:
    return make_contact(
        "jane@acme.test", owner=alice, lifecycle_stage="lead", properties={"plan": "basic"}
    )


# --- the page -------------------------------------------------------------------


def test_the_edit_page_shows_the_current_values(alice: User, bob: User, jane: Contact) -> None:
    page = html(signed_in(alice).get(f"/contacts/{jane.pk}/edit/"))
    assert 'name="first_name" id="id_first_name" value="Jane"' in page
    assert '<option value="lead" selected>' in page
    assert '<option value="alice" selected>Alice Archer</option>' in page
    assert '<option value="bob" >Bob Baker</option>' in page
    assert 'value="plan"' in page and 'value="basic"' in page
    assert '<label for="id_lifecycle_stage">Lifecycle stage</label>' in page


def test_changing_the_lifecycle_stage_writes_one_event_and_the_dynamic_list_follows(
    alice: User, jane: Contact
) -> None:
    customers = create_list(
        name="Customers",
        kind=ListKind.DYNAMIC,
        actor=alice,
        conditions=[{"field": "lifecycle_stage", "op": "is", "value": "customer"}],
    )
    response = signed_in(alice).post(
        f"/contacts/{jane.pk}/edit/", form_of(jane, lifecycle_stage="customer")
    )
    assert response.status_code == 302
    assert response["Location"] == f"/contacts/{jane.pk}/"
    event = Event.objects.get(kind="contact_updated")
    assert event.actor == alice
    assert event.contact == jane
    assert event.data["changes"] == {"lifecycle_stage": ["lead", "customer"]}
    assert not customers.memberships.exists()
    run_automation()
    assert list(customers.memberships.values_list("contact", flat=True)) == [jane.pk]


def test_several_changes_are_saved_as_one_event(alice: User, bob: User, jane: Contact) -> None:
    data = form_of(
        jane,
        first_name="Janet",
        owner="bob",
        time_zone="Europe/Paris",
        property_key=["plan", "region"],
        property_value=["gold", "emea"],
    )
    assert signed_in(alice).post(f"/contacts/{jane.pk}/edit/", data).status_code == 302
    jane.refresh_from_db()
    assert (jane.first_name, jane.owner, jane.time_zone) == ("Janet", bob, "Europe/Paris")
    assert jane.properties == {"plan": "gold", "region": "emea"}
    (event,) = Event.objects.filter(kind="contact_updated")
    assert set(event.data["fields"]) == {
        "first_name",
        "owner",
        "time_zone",
        "properties.plan",
        "properties.region",
    }


def test_a_property_taken_out_of_the_rows_or_emptied_is_removed(alice: User, jane: Contact) -> None:
    jane.properties = {"plan": "basic", "region": "emea", "size": "10"}
    jane.save()
    data = form_of(jane, property_key=["region", "size"], property_value=["emea", ""])
    signed_in(alice).post(f"/contacts/{jane.pk}/edit/", data)
    jane.refresh_from_db()
    assert jane.properties == {"region": "emea"}


def test_saving_without_a_change_writes_nothing(alice: User, jane: Contact) -> None:
    before = contact_state(jane)
    response = signed_in(alice).post(f"/contacts/{jane.pk}/edit/", form_of(jane), follow=True)
    assert "Nothing changed." in response.content.decode()
    assert contact_state(jane) == before


def test_add_property_and_remove_redraw_the_form_and_write_nothing(
    alice: User, jane: Contact
) -> None:
    client = signed_in(alice)
    before = contact_state(jane)
    added = html(client.post(f"/contacts/{jane.pk}/edit/", form_of(jane, add_property="1")))
    assert 'id="property-key-2"' in added
    removed = html(client.post(f"/contacts/{jane.pk}/edit/", form_of(jane, remove_property="0")))
    assert 'id="property-key-1" value=""' in removed
    assert contact_state(jane) == before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, "unknown time zone"),
        ({"lifecycle_stage": "champion"}, "unknown lifecycle stage"),
        ({"owner": "nobody"}, "no active user is called"),
        ({"property_key": ["bad key"], "property_value": ["x"]}, "is not a property name"),
        ({"property_key": ["", "plan"], "property_value": ["x", "y"]}, "property 1: give it"),
        ({"property_key": ["a", "a"], "property_value": ["x", "y"]}, "appears twice"),
        ({"first_name": "J" * 101}, "longer than 100 characters"),
    ],
)
def test_a_value_that_cannot_be_saved_says_why_and_nothing_is_written(
    alice: User, jane: Contact, changes: dict[str, Any], message: str
) -> None:
    before = contact_state(jane)
    page = html(
        signed_in(alice).post(
            f"/contacts/{jane.pk}/edit/", form_of(jane, **({"first_name": "Changed"} | changes))
        ),
        400,
    )
    assert message in page.replace("&#x27;", "'")
    assert "Nothing was changed" in page
    assert contact_state(jane) == before


def test_a_deleted_contact_cannot_be_edited(alice: User, jane: Contact) -> None:
    delete_contact(contact=jane, actor=alice)
    before = contact_state(jane)
    response = signed_in(alice).post(
        f"/contacts/{jane.pk}/edit/", form_of(jane, first_name="Ghost"), follow=True
    )
    assert "was deleted; it can no longer change" in response.content.decode()
    assert contact_state(jane) == before


# --- who may edit ---------------------------------------------------------------


def test_another_rep_may_not_edit_a_contact_someone_owns(
    alice: User, bob: User, jane: Contact
) -> None:
    client = signed_in(bob)
    before = contact_state(jane)
    assert client.get(f"/contacts/{jane.pk}/edit/").status_code == 403
    response = client.post(f"/contacts/{jane.pk}/edit/", form_of(jane, lifecycle_stage="other"))
    assert response.status_code == 403
    assert contact_state(jane) == before


def test_any_rep_edits_a_contact_without_owner_and_a_manager_edits_any(
    bob: User, manager: User, jane: Contact
) -> None:
    nobodys = make_contact("nobody@acme.test")
    assert may_edit_contact(bob, nobodys)
    response = signed_in(bob).post(
        f"/contacts/{nobodys.pk}/edit/", form_of(nobodys, lifecycle_stage="mql")
    )
    assert response.status_code == 302
    assert signed_in(manager).get(f"/contacts/{jane.pk}/edit/").status_code == 200
    assert may_edit_contact(make_user("ada", role=Role.ADMIN), jane)


def test_the_edit_page_of_an_unknown_contact_is_not_found(alice: User) -> None:
    assert signed_in(alice).get("/contacts/999999/edit/").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(jane: Contact) -> None:
    response = Client().get(f"/contacts/{jane.pk}/edit/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# --- companies --------------------------------------------------------------------


@pytest.fixture
def acme() -> Company:
    company = make_company("Acme", "acme.test")
    company.properties = {"tier": "silver"}
    company.save()
    return company


def company_form(company: Company, **changes: Any) -> dict[str, Any]:
    keys = sorted(company.properties)
    data: dict[str, Any] = {
        "name": company.name,
        "known_key": keys,
        "property_key": keys,
        "property_value": [company.properties[k] for k in keys],
        "save": "1",
    }
    return data | changes


def test_anyone_renames_a_company_and_sets_its_properties_in_one_event(
    bob: User, acme: Company
) -> None:
    page = html(signed_in(bob).get(f"/companies/{acme.pk}/edit/"))
    assert 'name="name" id="id_name" value="Acme"' in page
    data = company_form(
        acme, name="Acme Corp", property_key=["tier", "region"], property_value=["gold", "emea"]
    )
    response = signed_in(bob).post(f"/companies/{acme.pk}/edit/", data)
    assert response["Location"] == f"/companies/{acme.pk}/"
    acme.refresh_from_db()
    assert (acme.name, acme.properties) == ("Acme Corp", {"tier": "gold", "region": "emea"})
    (event,) = Event.objects.filter(kind="company_updated")
    assert event.actor == bob
    assert event.data["changes"]["properties.tier"] == ["silver", "gold"]


def test_a_company_property_edit_moves_its_contacts_into_a_dynamic_list(
    bob: User, acme: Company
) -> None:
    make_contact("jane@acme.test", company=acme)
    gold = create_list(
        name="Gold",
        kind=ListKind.DYNAMIC,
        actor=bob,
        conditions=[{"field": "company.properties.tier", "op": "is", "value": "gold"}],
    )
    signed_in(bob).post(f"/companies/{acme.pk}/edit/", company_form(acme, property_value=["gold"]))
    run_automation()
    assert gold.memberships.count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "  "}, "give the company a name"),
        ({"property_key": ["bad key"], "property_value": ["x"]}, "is not a property name"),
        ({"name": "A" * 201}, "longer than 200 characters"),
    ],
)
def test_a_company_edit_that_cannot_be_saved_says_why_and_nothing_is_written(
    bob: User, acme: Company, changes: dict[str, Any], message: str
) -> None:
    before = (Company.objects.values_list("name", "properties").get(), Event.objects.count())
    page = html(
        signed_in(bob).post(f"/companies/{acme.pk}/edit/", company_form(acme, **changes)), 400
    )
    assert message in page
    assert (Company.objects.values_list("name", "properties").get(), Event.objects.count()) == (
        before
    )


def test_the_company_record_tag_links_to_the_edit_page_and_escapes_properties(
    acme: Company,
) -> None:
    from django.template import Context, Template

    acme.properties = {"note": "<b>bold</b>", "tier": "gold"}
    acme.save()
    shown = Template("{% load automation_tags %}{% company_edit_link company %}").render(
        Context({"company": acme})
    )
    assert f'href="/companies/{acme.pk}/edit/"' in shown
    assert "note = &lt;b&gt;bold&lt;/b&gt; · tier = gold" in shown
