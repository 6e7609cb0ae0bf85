"""The lists API (/api/v1/lists…) and PATCH /api/v1/companies/{id}."""

from typing import Any

import pytest
from pytest_django.fixtures import SettingsWrapper

from cadency.accounts.models import User
from cadency.automation.models import ContactList, ListKind
from cadency.automation.services.lists import add_to_list, create_list
from cadency.contacts.models import Company, Contact
from cadency.ledger.models import Event
from cadency.sequences.services.lifecycle import delete_contact
from tests.api.support import Api, api_for, error_of
from tests.automation.list_support import list_state, make_manager, make_rep, members
from tests.automation.support import run_automation
from tests.factories import make_company, make_contact

pytestmark = pytest.mark.django_db

CUSTOMERS = [{"field": "lifecycle_stage", "op": "is", "value": "customer"}]


@pytest.fixture(autouse=True)
def fast_passwords(settings: SettingsWrapper) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ria() -> User:
    return make_rep("ria")


@pytest.fixture
def as_ria(ria: User) -> Api:
    return api_for(ria)


@pytest.fixture
def as_rob() -> Api:
    return api_for(make_rep("rob"))


@pytest.fixture
def as_maya() -> Api:
    return api_for(make_manager())


@pytest.fixture
def jane() -> Contact:
    return make_contact("jane@acme.test", lifecycle_stage="customer")


@pytest.fixture
def vip(ria: User) -> ContactList:
    return create_list(name="VIP", kind=ListKind.STATIC, actor=ria)


@pytest.fixture
def customers(ria: User, jane: Contact) -> ContactList:
    return create_list(name="Customers", kind=ListKind.DYNAMIC, actor=ria, conditions=CUSTOMERS)


# --- reading and creating -------------------------------------------------------


def test_creating_a_dynamic_list_fills_it_and_answers_201(as_rob: Api, jane: Contact) -> None:
    make_contact("john@acme.test", lifecycle_stage="lead")
    response = as_rob.post(
        "/lists", {"name": "Customers", "kind": "dynamic", "conditions": CUSTOMERS}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "dynamic"
    assert body["conditions"] == CUSTOMERS
    assert body["description"] == "lifecycle_stage is “customer”"
    assert body["member_count"] == 1
    assert body["owner"]["username"] == "rob"


def test_creating_a_static_list(as_rob: Api) -> None:
    response = as_rob.post("/lists", {"name": "VIP", "kind": "static"})
    assert response.status_code == 201
    assert response.json()["conditions"] == []
    assert response.json()["description"] == ""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"name": "X", "kind": "static", "conditions": CUSTOMERS},
            "a static list has no conditions",
        ),
        ({"name": "X", "kind": "dynamic"}, "needs at least one condition"),
        (
            {"name": "X", "kind": "dynamic", "conditions": [{"field": "shoe", "value": "9"}]},
            "unknown field",
        ),
        ({"name": "X", "kind": "smart"}, "kind"),
        ({"name": "X", "kind": "dynamic", "conditions": [{"field": "email", "op": "like"}]}, "op"),
        ({"name": "", "kind": "static"}, "give the list a name"),
    ],
)
def test_a_list_that_cannot_be_made_is_400_and_nothing_is_written(
    as_rob: Api, body: dict[str, Any], message: str
) -> None:
    before = list_state()
    assert message in error_of(as_rob.post("/lists", body), 400, "invalid")
    assert list_state() == before


def test_lists_are_listed_by_name_and_filtered(
    as_rob: Api, ria: User, vip: ContactList, customers: ContactList, jane: Contact
) -> None:
    body = as_rob.get("/lists").json()
    assert [item["name"] for item in body["items"]] == ["Customers", "VIP"]
    assert body["count"] == 2
    assert [i["name"] for i in as_rob.get("/lists", kind="static").json()["items"]] == ["VIP"]
    assert [i["name"] for i in as_rob.get("/lists", contact=jane.pk).json()["items"]] == [
        "Customers"
    ]
    error_of(as_rob.get("/lists", contact=999999), 404, "not_found")
    single = as_rob.get(f"/lists/{vip.pk}").json()
    assert (single["name"], single["member_count"]) == ("VIP", 0)
    error_of(as_rob.get("/lists/999999"), 404, "not_found")


def test_members_are_paginated_and_deleted_contacts_left_out(
    as_rob: Api, ria: User, vip: ContactList
) -> None:
    contacts = [make_contact(f"c{i}@acme.test") for i in range(3)]
    for contact in contacts:
        add_to_list(contact_list=vip, contact=contact, actor=ria)
    delete_contact(contact=contacts[0], actor=ria)
    page = as_rob.get(f"/lists/{vip.pk}/members", limit=1).json()
    assert page["count"] == 2
    assert len(page["items"]) == 1
    assert page["items"][0]["contact"]["email"] == "c2@acme.test"
    assert as_rob.get(f"/lists/{vip.pk}").json()["member_count"] == 2


# --- members of a static list ---------------------------------------------------


def test_adding_a_member_is_201_then_200_and_writes_one_event(
    as_rob: Api, vip: ContactList, jane: Contact
) -> None:
    first = as_rob.post(f"/lists/{vip.pk}/members", {"contact": jane.pk})
    assert first.status_code == 201
    assert first.json()["contact"]["email"] == "jane@acme.test"
    again = as_rob.post(f"/lists/{vip.pk}/members", {"contact": jane.pk})
    assert again.status_code == 200
    assert Event.objects.filter(kind="list_member_added").count() == 1


def test_removing_a_member_is_204_and_writes_an_event(
    as_rob: Api, ria: User, vip: ContactList, jane: Contact
) -> None:
    add_to_list(contact_list=vip, contact=jane, actor=ria)
    assert as_rob.delete(f"/lists/{vip.pk}/members/{jane.pk}").status_code == 204
    assert members(vip) == set()
    removed = Event.objects.select_related("actor").get(kind="list_member_removed")
    assert removed.actor is not None and removed.actor.username == "rob"
    error_of(as_rob.delete(f"/lists/{vip.pk}/members/{jane.pk}"), 404, "not_found")


def test_a_dynamic_list_refuses_members_by_hand_with_409(
    as_rob: Api, customers: ContactList, jane: Contact
) -> None:
    other = make_contact("john@acme.test")
    before = list_state()
    message = error_of(
        as_rob.post(f"/lists/{customers.pk}/members", {"contact": other.pk}), 409, "conflict"
    )
    assert "dynamic: its conditions decide who is in it" in message
    error_of(as_rob.delete(f"/lists/{customers.pk}/members/{jane.pk}"), 409, "conflict")
    assert list_state() == before


def test_unknown_or_deleted_contacts_are_refused(
    as_rob: Api, ria: User, vip: ContactList, jane: Contact
) -> None:
    before = list_state()
    error_of(as_rob.post(f"/lists/{vip.pk}/members", {"contact": 999999}), 404, "not_found")
    error_of(as_rob.post(f"/lists/{vip.pk}/members", {"contact": "1"}), 400, "invalid")
    error_of(as_rob.post("/lists/999999/members", {"contact": jane.pk}), 404, "not_found")
    error_of(as_rob.delete(f"/lists/{vip.pk}/members/999999"), 404, "not_found")
    assert list_state() == before
    delete_contact(contact=jane, actor=ria)
    before = list_state()
    message = error_of(
        as_rob.post(f"/lists/{vip.pk}/members", {"contact": jane.pk}), 409, "conflict"
    )
    assert "was deleted" in message
    assert list_state() == before


# --- conditions and deletion ------------------------------------------------------


def test_the_owner_changes_the_conditions_and_members_follow(
    as_ria: Api, customers: ContactList
) -> None:
    make_contact("john@acme.test", lifecycle_stage="lead")
    response = as_ria.patch(
        f"/lists/{customers.pk}",
        {
            "conditions": [
                {"field": "lifecycle_stage", "op": "is_any_of", "value": ["lead", "customer"]}
            ]
        },
    )
    assert response.status_code == 200, response.content
    assert response.json()["member_count"] == 2
    assert members(customers) == {"jane@acme.test", "john@acme.test"}


def test_a_manager_changes_anyones_conditions_and_another_rep_gets_403(
    as_maya: Api, as_rob: Api, customers: ContactList
) -> None:
    lead = {"conditions": [{"field": "lifecycle_stage", "value": "lead"}]}
    before = list_state()
    assert "belongs to another user" in error_of(
        as_rob.patch(f"/lists/{customers.pk}", lead), 403, "forbidden"
    )
    error_of(as_rob.delete(f"/lists/{customers.pk}"), 403, "forbidden")
    assert list_state() == before
    assert as_maya.patch(f"/lists/{customers.pk}", lead).status_code == 200


def test_bad_or_misplaced_conditions_change_nothing(
    as_ria: Api, vip: ContactList, customers: ContactList
) -> None:
    before = list_state()
    error_of(as_ria.patch(f"/lists/{vip.pk}", {"conditions": CUSTOMERS}), 409, "conflict")
    bad = {"conditions": [{"field": "company.shoe", "op": "is", "value": "9"}]}
    assert "unknown field" in error_of(as_ria.patch(f"/lists/{customers.pk}", bad), 400, "invalid")
    error_of(as_ria.patch(f"/lists/{customers.pk}", {"conditions": []}), 400, "invalid")
    assert list_state() == before


def test_the_owner_deletes_a_list_and_history_stays(
    as_ria: Api, ria: User, vip: ContactList, jane: Contact
) -> None:
    add_to_list(contact_list=vip, contact=jane, actor=ria)
    assert as_ria.delete(f"/lists/{vip.pk}").status_code == 204
    assert not ContactList.objects.exists()
    assert Event.objects.get(kind="list_deleted").data["members"] == 1
    assert Event.objects.filter(kind="list_member_added").exists()
    error_of(as_ria.delete(f"/lists/{vip.pk}"), 404, "not_found")


# --- PATCH /companies/{id} ----------------------------------------------------------


def test_patching_a_company_sets_its_name_and_properties_in_one_event(as_rob: Api) -> None:
    acme = make_company("Acme", "acme.test")
    make_contact("jane@acme.test", company=acme)
    gold = create_list(
        name="Gold",
        kind=ListKind.DYNAMIC,
        actor=None,
        conditions=[{"field": "company.properties.tier", "op": "is", "value": "gold"}],
    )
    response = as_rob.patch(
        f"/companies/{acme.pk}", {"name": "Acme Corp", "properties": {"tier": "gold"}}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Acme Corp"
    assert body["properties"] == {"tier": "gold"}
    assert body["changes"] == {"name": ["Acme", "Acme Corp"], "properties.tier": [None, "gold"]}
    assert body["domains"] == ["acme.test"]
    assert body["contact_count"] == 1
    assert Event.objects.filter(kind="company_updated").count() == 1
    run_automation()
    assert members(gold) == {"jane@acme.test"}
    removed = as_rob.patch(f"/companies/{acme.pk}", {"properties": {"tier": None}}).json()
    assert removed["properties"] == {}
    assert removed["name"] == "Acme Corp"


def test_patching_a_company_with_bad_input_changes_nothing(as_rob: Api) -> None:
    acme = make_company("Acme", "acme.test")
    before = (list(Company.objects.values_list("name", "properties")), Event.objects.count())
    error_of(
        as_rob.patch(f"/companies/{acme.pk}", {"properties": {"bad key": "x"}}), 400, "invalid"
    )
    error_of(as_rob.patch(f"/companies/{acme.pk}", {"colour": "red"}), 400, "invalid")
    error_of(as_rob.patch("/companies/999999", {"name": "X"}), 404, "not_found")
    assert (
        list(Company.objects.values_list("name", "properties")),
        Event.objects.count(),
    ) == before
