"""The list pages: index, new list with its live count, a list's members, conditions,
deletion, and the Lists section of a contact's record."""

import re
from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory

from cadency.accounts.models import User
from cadency.automation.models import ContactList, ListKind, TriggerType
from cadency.automation.services.lists import add_to_list, create_list
from cadency.automation.services.workflows import create_workflow
from cadency.contacts.models import Contact
from cadency.ledger.models import Event
from tests.automation.list_support import (
    list_state,
    make_manager,
    make_rep,
    members,
    signed_in,
)
from tests.factories import make_company, make_contact

pytestmark = pytest.mark.django_db

CUSTOMERS = [{"field": "lifecycle_stage", "op": "is", "value": "customer"}]


def html(response: Any, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.content[:500])
    return str(response.content.decode())


def rows(*conditions: tuple[str, str, str]) -> dict[str, list[str]]:
    return {
        "field": [c[0] for c in conditions],
        "op": [c[1] for c in conditions],
        "value": [c[2] for c in conditions],
    }


@pytest.fixture
def ria() -> User:
    return make_rep("ria")


@pytest.fixture
def rob() -> User:
    return make_rep("rob")


@pytest.fixture
def maya() -> User:
    return make_manager()


@pytest.fixture
def jane() -> Contact:
    return make_contact("jane@acme.test", first_name="Jane", last_name="Doe")


@pytest.fixture
def vip(ria: User) -> ContactList:
    return create_list(name="VIP", kind=ListKind.STATIC, actor=ria)


@pytest.fixture
def customers(ria: User) -> ContactList:
    return create_list(name="Customers", kind=ListKind.DYNAMIC, actor=ria, conditions=CUSTOMERS)


# --- index and new list ---------------------------------------------------------


def test_a_signed_out_visitor_is_sent_to_sign_in() -> None:
    response = Client().get("/lists/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_the_index_shows_each_list_with_kind_members_and_owner(
    ria: User, rob: User, vip: ContactList, jane: Contact
) -> None:
    add_to_list(contact_list=vip, contact=jane, actor=ria)
    page = html(signed_in(rob).get("/lists/"))
    assert f'href="/lists/{vip.pk}/">VIP</a>' in page
    assert "static" in page
    assert "<td>1</td>" in page
    assert "Ria Rep" in page
    assert 'href="/lists/new/"' in page


def test_anyone_creates_a_static_list_and_owns_it(rob: User) -> None:
    response = signed_in(rob).post("/lists/new/", {"name": " Trade show ", "kind": "static"})
    created = ContactList.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/lists/{created.pk}/"
    assert (created.name, created.kind, created.owner, created.conditions) == (
        "Trade show",
        "static",
        rob,
        [],
    )


def test_a_dynamic_list_is_created_from_condition_rows_and_filled(rob: User) -> None:
    make_contact("jane@acme.test", lifecycle_stage="customer", properties={"plan": "gold"})
    make_contact("jim@acme.test", lifecycle_stage="customer")
    make_contact("john@acme.test", lifecycle_stage="lead", properties={"plan": "gold"})
    data = {"name": "Gold customers", "kind": "dynamic"} | rows(
        ("lifecycle_stage", "is", "customer"), ("properties.plan", "is_any_of", "gold, platinum")
    )
    response = signed_in(rob).post("/lists/new/", data)
    assert response.status_code == 302
    created = ContactList.objects.get()
    assert created.conditions == [
        {"field": "lifecycle_stage", "op": "is", "value": "customer"},
        {"field": "properties.plan", "op": "is_any_of", "value": ["gold", "platinum"]},
    ]
    assert members(created) == {"jane@acme.test"}


def test_blank_condition_rows_are_ignored_and_a_static_list_ignores_hidden_rows(
    rob: User,
) -> None:
    data = {"name": "Plain", "kind": "static"} | rows(("lifecycle_stage", "is", "customer"))
    assert signed_in(rob).post("/lists/new/", data).status_code == 302
    assert ContactList.objects.get().conditions == []


def test_add_condition_shows_another_row_and_writes_nothing(rob: User) -> None:
    data = {"name": "Draft", "kind": "dynamic", "add_condition": "1"} | rows(
        ("lifecycle_stage", "is", "customer")
    )
    page = html(signed_in(rob).post("/lists/new/", data))
    assert 'id="field-2"' in page
    assert 'value="lifecycle_stage"' in page
    assert not ContactList.objects.exists()


def test_remove_takes_a_row_away_and_writes_nothing(rob: User) -> None:
    data = {"name": "Draft", "kind": "dynamic", "remove_condition": "0"} | rows(
        ("lifecycle_stage", "is", "customer"), ("email", "contains", "acme")
    )
    page = html(signed_in(rob).post("/lists/new/", data))
    assert 'id="field-1" value="email"' in page
    assert 'id="field-2"' not in page
    assert not ContactList.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "Bad", "kind": "dynamic"} | rows(("shoe_size", "is", "9")), "unknown field"),
        ({"name": "Bad", "kind": "dynamic"} | rows(("email", "is", "")), "give a value"),
        ({"name": "Bad", "kind": "dynamic"} | rows(("", "is", "x")), "condition 1: choose a field"),
        ({"name": "Bad", "kind": "dynamic"}, "needs at least one condition"),
        ({"name": "", "kind": "static"}, "give the list a name"),
        ({"name": "Bad", "kind": "smart"}, "unknown list kind"),
    ],
)
def test_a_list_that_cannot_be_made_shows_why_and_nothing_is_written(
    rob: User, data: dict[str, Any], message: str
) -> None:
    make_contact(lifecycle_stage="customer")
    before = list_state()
    page = html(signed_in(rob).post("/lists/new/", data), 400)
    assert message in page
    assert "Nothing was written" in page
    assert list_state() == before


def test_a_second_list_with_the_same_name_is_refused(rob: User, vip: ContactList) -> None:
    page = html(signed_in(rob).post("/lists/new/", {"name": "VIP", "kind": "static"}), 400)
    assert "already exists" in page
    assert ContactList.objects.count() == 1


def test_the_live_count_says_how_many_contacts_match_and_writes_nothing(rob: User) -> None:
    make_contact("jane@acme.test", lifecycle_stage="customer")
    make_contact("jim@acme.test", lifecycle_stage="customer")
    make_contact("john@acme.test", lifecycle_stage="lead")
    client = signed_in(rob)
    before = list_state()
    two = html(client.get("/lists/preview/", rows(("lifecycle_stage", "is", "customer"))))
    assert "2 contacts match" in two
    one = html(
        client.get(
            "/lists/preview/",
            rows(("lifecycle_stage", "is", "customer"), ("email", "contains", "jim")),
        )
    )
    assert "1 contact matches" in one
    bad = html(client.get("/lists/preview/", rows(("shoe_size", "is", "9"))))
    assert "unknown field" in bad
    empty = html(client.get("/lists/preview/"))
    assert "Add a condition" in empty
    assert list_state() == before


def test_the_new_list_page_counts_the_rows_it_shows(rob: User) -> None:
    make_contact("jane@acme.test", lifecycle_stage="customer")
    data = {"name": "Draft", "kind": "dynamic", "add_condition": "1"} | rows(
        ("lifecycle_stage", "is", "customer")
    )
    page = html(signed_in(rob).post("/lists/new/", data))
    assert "1 contact matches" in page
    assert 'hx-get="/lists/preview/"' in page


# --- a static list's members ----------------------------------------------------


def test_adding_a_contact_by_address_writes_an_event(
    rob: User, vip: ContactList, jane: Contact
) -> None:
    response = signed_in(rob).post(
        f"/lists/{vip.pk}/members/add/", {"email": "JANE@acme.test", "next": f"/lists/{vip.pk}/"}
    )
    assert response.status_code == 302
    assert members(vip) == {"jane@acme.test"}
    event = Event.objects.get(kind="list_member_added")
    assert (event.contact, event.actor, event.data["list"]) == (jane, rob, vip.pk)


def test_adding_by_a_name_that_finds_one_contact_adds_it(
    rob: User, vip: ContactList, jane: Contact
) -> None:
    make_contact("john@acme.test", first_name="John", last_name="Smith")
    signed_in(rob).post(f"/lists/{vip.pk}/members/add/", {"email": "doe"})
    assert members(vip) == {"jane@acme.test"}


def test_adding_by_a_name_that_finds_several_asks_which(rob: User, vip: ContactList) -> None:
    make_contact("jane@acme.test", first_name="Jane", last_name="Doe")
    make_contact("jim@acme.test", first_name="Jim", last_name="Doe")
    page = html(signed_in(rob).post(f"/lists/{vip.pk}/members/add/", {"email": "doe"}))
    assert "jane@acme.test" in page
    assert "jim@acme.test" in page
    assert members(vip) == set()


def test_the_search_offers_contacts_not_yet_in_the_list(
    ria: User, vip: ContactList, jane: Contact
) -> None:
    make_contact("jim@acme.test", first_name="Jim", last_name="Doe")
    add_to_list(contact_list=vip, contact=jane, actor=ria)
    page = html(signed_in(ria).get(f"/lists/{vip.pk}/members/search/", {"email": "doe"}))
    assert "jim@acme.test" in page
    assert "jane@acme.test" not in page


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("nobody@acme.test", "there is no contact with the address nobody@acme.test"),
        ("zebra", "No contact outside the list matches «zebra»"),
        ("", "type the contact&#x27;s address"),
    ],
)
def test_adding_someone_unknown_shows_why_and_writes_nothing(
    rob: User, vip: ContactList, jane: Contact, typed: str, message: str
) -> None:
    before = list_state()
    page = html(signed_in(rob).post(f"/lists/{vip.pk}/members/add/", {"email": typed}), 400)
    assert message in page
    assert list_state() == before


def test_a_dynamic_list_takes_no_contact_by_hand(
    rob: User, customers: ContactList, jane: Contact
) -> None:
    before = list_state()
    page = html(
        signed_in(rob).post(f"/lists/{customers.pk}/members/add/", {"email": jane.email}), 400
    )
    assert "dynamic: its conditions decide who is in it" in page
    assert list_state() == before


def test_removing_a_member_writes_an_event_and_goes_back(
    ria: User, rob: User, vip: ContactList, jane: Contact
) -> None:
    add_to_list(contact_list=vip, contact=jane, actor=ria)
    page = html(signed_in(rob).get(f"/lists/{vip.pk}/"))
    assert f'action="/lists/{vip.pk}/members/{jane.pk}/remove/"' in page
    assert "data-confirm=" in page
    response = signed_in(rob).post(
        f"/lists/{vip.pk}/members/{jane.pk}/remove/", {"next": f"/lists/{vip.pk}/?page=1"}
    )
    assert response["Location"] == f"/lists/{vip.pk}/?page=1"
    assert members(vip) == set()
    assert Event.objects.get(kind="list_member_removed").actor == rob


def test_removing_from_a_dynamic_list_is_refused(rob: User, customers: ContactList) -> None:
    jane = make_contact("jane@acme.test", lifecycle_stage="customer")
    customers.refresh_from_db()
    from cadency.automation.services.lists import rebuild_list

    rebuild_list(customers)
    before = list_state()
    html(signed_in(rob).post(f"/lists/{customers.pk}/members/{jane.pk}/remove/"), 400)
    assert list_state() == before


def test_the_members_link_to_their_contacts_page_by_page(ria: User, vip: ContactList) -> None:
    acme = make_company("Acme", "acme.test")
    for i in range(55):
        add_to_list(
            contact_list=vip, contact=make_contact(f"c{i:02d}@acme.test", company=acme), actor=ria
        )
    first = html(signed_in(ria).get(f"/lists/{vip.pk}/"))
    assert len(re.findall(r'href="/contacts/\d+/"', first)) == 50
    assert f'href="/lists/{vip.pk}/?page=2"' in first
    second = html(signed_in(ria).get(f"/lists/{vip.pk}/?page=2"))
    assert len(re.findall(r'href="/contacts/\d+/"', second)) == 5


# --- a dynamic list's conditions --------------------------------------------------


def test_a_dynamic_list_shows_its_conditions_in_words(
    ria: User, rob: User, customers: ContactList
) -> None:
    page = html(signed_in(rob).get(f"/lists/{customers.pk}/"))
    assert "lifecycle_stage is “customer”" in page
    assert "Edit conditions" not in page
    assert "Delete list" not in page
    owner_page = html(signed_in(ria).get(f"/lists/{customers.pk}/"))
    assert f'href="/lists/{customers.pk}/conditions/"' in owner_page
    assert "Delete list" in owner_page


def test_the_owner_changes_the_conditions_and_the_list_follows(
    ria: User, customers: ContactList
) -> None:
    make_contact("jane@acme.test", lifecycle_stage="customer")
    make_contact("john@acme.test", lifecycle_stage="lead")
    client = signed_in(ria)
    page = html(client.get(f"/lists/{customers.pk}/conditions/"))
    assert 'value="lifecycle_stage"' in page
    assert 'value="customer"' in page
    response = client.post(
        f"/lists/{customers.pk}/conditions/",
        rows(("lifecycle_stage", "is_any_of", "lead,customer")),
    )
    assert response.status_code == 302
    assert members(customers) == {"jane@acme.test", "john@acme.test"}


def test_a_manager_may_change_anyones_conditions(maya: User, customers: ContactList) -> None:
    response = signed_in(maya).post(
        f"/lists/{customers.pk}/conditions/", rows(("lifecycle_stage", "is", "lead"))
    )
    assert response.status_code == 302
    customers.refresh_from_db()
    assert customers.conditions[0]["value"] == "lead"


def test_another_rep_may_not_change_the_conditions_or_delete_the_list(
    rob: User, customers: ContactList
) -> None:
    client = signed_in(rob)
    before = list_state()
    assert client.get(f"/lists/{customers.pk}/conditions/").status_code == 403
    denied = client.post(
        f"/lists/{customers.pk}/conditions/", rows(("lifecycle_stage", "is", "lead"))
    )
    assert denied.status_code == 403
    assert client.post(f"/lists/{customers.pk}/delete/").status_code == 403
    assert list_state() == before


def test_bad_conditions_are_shown_and_the_old_ones_kept(ria: User, customers: ContactList) -> None:
    before = list_state()
    page = html(
        signed_in(ria).post(
            f"/lists/{customers.pk}/conditions/", rows(("owner", "is_set", ""), ("x", "is", "y"))
        ),
        400,
    )
    assert "unknown field &#x27;x&#x27;" in page
    assert list_state() == before


# --- deleting -----------------------------------------------------------------------


def test_the_owner_deletes_a_list_and_the_history_stays(
    ria: User, vip: ContactList, jane: Contact
) -> None:
    add_to_list(contact_list=vip, contact=jane, actor=ria)
    page = html(signed_in(ria).get(f"/lists/{vip.pk}/"))
    assert f'action="/lists/{vip.pk}/delete/"' in page
    response = signed_in(ria).post(f"/lists/{vip.pk}/delete/")
    assert response["Location"] == "/lists/"
    assert not ContactList.objects.exists()
    assert Contact.objects.filter(pk=jane.pk).exists()
    assert Event.objects.get(kind="list_deleted").data["list_name"] == "VIP"
    assert Event.objects.filter(kind="list_member_added", contact=jane).exists()


def test_a_list_in_use_by_a_workflow_is_not_deleted(ria: User, vip: ContactList) -> None:
    create_workflow(
        owner=ria,
        name="Welcome VIPs",
        trigger_type=TriggerType.LIST_JOINED,
        trigger_filters={"list": vip.pk},
        conditions=[],
        actions=[{"type": "create_task", "title": "Call", "assignee": "workflow_owner"}],
    )
    before = list_state()
    page = html(signed_in(ria).post(f"/lists/{vip.pk}/delete/"), 400)
    assert "used by the workflow «Welcome VIPs»" in page
    assert list_state() == before


# --- the contact record's Lists section ---------------------------------------------


def record_section(user: User, contact: Contact) -> str:
    request = RequestFactory().get(f"/contacts/{contact.pk}/")
    request.user = user
    template = Template("{% load automation_tags %}{% contact_lists contact %}")
    return template.render(Context({"request": request, "contact": contact}))


def test_the_record_lists_the_contacts_lists_with_remove_for_static_ones(
    ria: User, vip: ContactList, customers: ContactList
) -> None:
    jane = make_contact("jane@acme.test", lifecycle_stage="customer", owner=ria)
    from cadency.automation.services.lists import rebuild_list

    rebuild_list(customers)
    add_to_list(contact_list=vip, contact=jane, actor=ria)
    create_list(name="Later", kind=ListKind.STATIC, actor=ria)
    section = record_section(ria, jane)
    assert f'href="/lists/{vip.pk}/">VIP</a>' in section
    assert f'href="/lists/{customers.pk}/">Customers</a>' in section
    assert f'action="/lists/{vip.pk}/members/{jane.pk}/remove/"' in section
    assert f'action="/lists/{customers.pk}/members/' not in section
    assert '<option value="' in section and ">Later</option>" in section
    assert ">VIP</option>" not in section
    assert f'href="/contacts/{jane.pk}/edit/"' in section


def test_the_edit_link_shows_only_to_whom_may_edit(rob: User, ria: User) -> None:
    jane = make_contact("jane@acme.test", owner=ria)
    assert "/edit/" not in record_section(rob, jane)


def test_add_to_list_from_the_record_adds_and_goes_back(
    rob: User, vip: ContactList, jane: Contact
) -> None:
    response = signed_in(rob).post(
        "/lists/join/",
        {"list": str(vip.pk), "contact": str(jane.pk), "next": f"/contacts/{jane.pk}/#lists"},
    )
    assert response["Location"] == f"/contacts/{jane.pk}/#lists"
    assert members(vip) == {"jane@acme.test"}
    assert Event.objects.filter(kind="list_member_added", contact=jane, actor=rob).exists()


def test_add_to_a_dynamic_list_from_the_record_says_why_not(
    rob: User, customers: ContactList, jane: Contact
) -> None:
    before = list_state()
    client = signed_in(rob)
    response = client.post(
        "/lists/join/", {"list": str(customers.pk), "contact": str(jane.pk)}, follow=True
    )
    assert "Not added: «Customers» is dynamic" in response.content.decode()
    assert list_state() == before
    unknown = client.post("/lists/join/", {"list": "999999", "contact": str(jane.pk)}, follow=True)
    assert "Choose a list" in unknown.content.decode()
    assert list_state() == before
