"""The list rules of the automation foundation (services/lists.py) and the list
administration built on them (services/list_admin.py)."""

import pytest

from cadency.accounts.models import Role
from cadency.automation.models import ContactList, ListKind, TriggerType
from cadency.automation.services.list_admin import (
    count_matching,
    delete_list,
    may_change_list,
)
from cadency.automation.services.lists import (
    ListError,
    add_to_list,
    change_conditions,
    create_list,
    lists_of,
    remove_from_list,
)
from cadency.automation.services.workflows import create_workflow
from cadency.contacts.editing import set_contact_field, update_company
from cadency.ledger.models import Event
from cadency.sequences.services.lifecycle import delete_contact
from tests.automation.list_support import list_state, members
from tests.automation.support import run_automation
from tests.factories import make_company, make_contact, make_user

pytestmark = pytest.mark.django_db

CUSTOMERS = [{"field": "lifecycle_stage", "op": "is", "value": "customer"}]


def membership_events(kind: str) -> list[tuple[int | None, str]]:
    return list(
        Event.objects.filter(kind=kind).order_by("pk").values_list("contact_id", "data__list_name")
    )


# --- static and dynamic -----------------------------------------------------


def test_a_static_list_holds_whom_people_add_and_each_change_is_an_event() -> None:
    ria = make_user("ria")
    jane = make_contact("jane@acme.test")
    vip = create_list(name="VIP", kind=ListKind.STATIC, actor=ria)
    assert add_to_list(contact_list=vip, contact=jane, actor=ria) is True
    assert add_to_list(contact_list=vip, contact=jane, actor=ria) is False
    assert members(vip) == {"jane@acme.test"}
    assert membership_events("list_member_added") == [(jane.pk, "VIP")]
    added = Event.objects.get(kind="list_member_added")
    assert added.actor == ria
    assert added.data["list"] == vip.pk
    assert remove_from_list(contact_list=vip, contact=jane, actor=ria) is True
    assert remove_from_list(contact_list=vip, contact=jane, actor=ria) is False
    assert members(vip) == set()
    assert membership_events("list_member_removed") == [(jane.pk, "VIP")]


def test_a_dynamic_list_is_filled_with_the_contacts_matching_when_created() -> None:
    make_contact("jane@acme.test", lifecycle_stage="customer")
    make_contact("john@acme.test", lifecycle_stage="lead")
    customers = create_list(
        name="Customers", kind=ListKind.DYNAMIC, actor=None, conditions=CUSTOMERS
    )
    assert members(customers) == {"jane@acme.test"}
    assert membership_events("list_member_added") == [
        (Event.objects.get(kind="list_member_added").contact_id, "Customers")
    ]


def test_people_cannot_add_to_or_remove_from_a_dynamic_list() -> None:
    jane = make_contact("jane@acme.test", lifecycle_stage="customer")
    customers = create_list(
        name="Customers", kind=ListKind.DYNAMIC, actor=None, conditions=CUSTOMERS
    )
    before = list_state()
    with pytest.raises(ListError, match="dynamic: its conditions decide"):
        remove_from_list(contact_list=customers, contact=jane, actor=None)
    with pytest.raises(ListError, match="dynamic: its conditions decide"):
        add_to_list(contact_list=customers, contact=make_contact(), actor=None)
    assert list_state()[:2] == before[:2]


@pytest.mark.parametrize(
    ("kind", "conditions", "message"),
    [
        (ListKind.STATIC, CUSTOMERS, "a static list has no conditions"),
        (ListKind.DYNAMIC, [], "needs at least one condition"),
        (ListKind.DYNAMIC, [{"field": "shoe_size", "op": "is", "value": "9"}], "unknown field"),
        (ListKind.DYNAMIC, [{"field": "email", "op": "resembles", "value": "x"}], "operator"),
        ("smart", None, "unknown list kind"),
    ],
)
def test_a_list_that_cannot_be_made_says_why_and_nothing_is_written(
    kind: str, conditions: object, message: str
) -> None:
    make_contact(lifecycle_stage="customer")
    before = list_state()
    with pytest.raises(ListError, match=message):
        create_list(name="Bad", kind=kind, actor=None, conditions=conditions)
    assert list_state() == before


def test_two_lists_cannot_share_a_name() -> None:
    create_list(name="VIP", kind=ListKind.STATIC, actor=None)
    with pytest.raises(ListError, match="already exists"):
        create_list(name="VIP", kind=ListKind.STATIC, actor=None)


def test_lists_of_names_every_list_a_contact_is_in() -> None:
    jane = make_contact("jane@acme.test", lifecycle_stage="customer")
    vip = create_list(name="VIP", kind=ListKind.STATIC, actor=None)
    add_to_list(contact_list=vip, contact=jane, actor=None)
    create_list(name="Customers", kind=ListKind.DYNAMIC, actor=None, conditions=CUSTOMERS)
    create_list(name="Empty", kind=ListKind.STATIC, actor=None)
    assert [cl.name for cl in lists_of(jane)] == ["Customers", "VIP"]


# --- keeping dynamic lists in step ---------------------------------------------


def test_changing_the_conditions_rebuilds_the_list_with_events_for_who_joined_and_left() -> None:
    jane = make_contact("jane@acme.test", lifecycle_stage="customer")
    john = make_contact("john@acme.test", lifecycle_stage="lead")
    stage = create_list(name="Stage", kind=ListKind.DYNAMIC, actor=None, conditions=CUSTOMERS)
    changed = change_conditions(
        contact_list=stage,
        conditions=[{"field": "lifecycle_stage", "op": "is", "value": "lead"}],
        actor=None,
    )
    assert changed == 2
    assert members(stage) == {"john@acme.test"}
    assert membership_events("list_member_removed") == [(jane.pk, "Stage")]
    assert (john.pk, "Stage") in membership_events("list_member_added")


def test_a_static_list_has_no_conditions_to_change() -> None:
    vip = create_list(name="VIP", kind=ListKind.STATIC, actor=None)
    with pytest.raises(ListError, match="only a dynamic list"):
        change_conditions(contact_list=vip, conditions=CUSTOMERS, actor=None)


def test_a_contact_whose_stage_changes_joins_the_dynamic_list_after_automation_runs() -> None:
    jane = make_contact("jane@acme.test", lifecycle_stage="lead")
    customers = create_list(
        name="Customers", kind=ListKind.DYNAMIC, actor=None, conditions=CUSTOMERS
    )
    set_contact_field(contact=jane, field="lifecycle_stage", value="customer", actor=None)
    assert members(customers) == set()  # the worker does it, after the change commits
    run_automation()
    assert members(customers) == {"jane@acme.test"}
    set_contact_field(contact=jane, field="lifecycle_stage", value="other", actor=None)
    run_automation()
    assert members(customers) == set()


def test_a_company_property_change_moves_its_contacts_in_and_out_of_a_dynamic_list() -> None:
    acme = make_company("Acme", "acme.test")
    globex = make_company("Globex", "globex.test")
    make_contact("jane@acme.test", company=acme)
    make_contact("jim@acme.test", company=acme)
    make_contact("john@globex.test", company=globex)
    gold = create_list(
        name="Gold accounts",
        kind=ListKind.DYNAMIC,
        actor=None,
        conditions=[{"field": "company.properties.tier", "op": "is", "value": "gold"}],
    )
    assert members(gold) == set()
    update_company(company=acme, actor=None, properties={"tier": "Gold"})
    run_automation()
    assert members(gold) == {"jane@acme.test", "jim@acme.test"}
    update_company(company=acme, actor=None, properties={"tier": "silver"})
    run_automation()
    assert members(gold) == set()
    assert len(membership_events("list_member_removed")) == 2


def test_a_deleted_contact_leaves_dynamic_lists_after_automation_runs() -> None:
    jane = make_contact("jane@acme.test", lifecycle_stage="customer")
    customers = create_list(
        name="Customers", kind=ListKind.DYNAMIC, actor=None, conditions=CUSTOMERS
    )
    assert members(customers) == {"jane@acme.test"}
    delete_contact(contact=jane, actor=None)
    run_automation()
    assert members(customers) == set()
    assert membership_events("list_member_removed") == [(jane.pk, "Customers")]
    assert count_matching(CUSTOMERS) == 0


# --- who may change a list, deleting one ------------------------------------


def test_the_owner_a_manager_or_an_admin_may_change_a_list_and_no_other_rep() -> None:
    ria, rob = make_user("ria"), make_user("rob")
    maya = make_user("maya", role=Role.MANAGER)
    ada = make_user("ada", role=Role.ADMIN)
    vip = create_list(name="VIP", kind=ListKind.STATIC, actor=ria)
    assert may_change_list(ria, vip)
    assert not may_change_list(rob, vip)
    assert may_change_list(maya, vip)
    assert may_change_list(ada, vip)
    orphan = create_list(name="Orphan", kind=ListKind.STATIC, actor=None)
    assert not may_change_list(ria, orphan)
    assert may_change_list(maya, orphan)


def test_deleting_a_list_writes_one_event_and_keeps_its_members_history() -> None:
    ria = make_user("ria")
    jane = make_contact("jane@acme.test")
    vip = create_list(name="VIP", kind=ListKind.STATIC, actor=ria)
    add_to_list(contact_list=vip, contact=jane, actor=ria)
    assert delete_list(contact_list=vip, actor=ria) == 1
    assert not ContactList.objects.exists()
    deleted = Event.objects.get(kind="list_deleted")
    assert deleted.actor == ria
    assert deleted.data["list_name"] == "VIP"
    assert deleted.data["members"] == 1
    assert "VIP" in deleted.sentence
    assert membership_events("list_member_added") == [(jane.pk, "VIP")]
    assert not Event.objects.filter(kind="list_member_removed").exists()


def test_a_list_a_workflow_uses_cannot_be_deleted() -> None:
    ria = make_user("ria")
    vip = create_list(name="VIP", kind=ListKind.STATIC, actor=ria)
    create_workflow(
        owner=ria,
        name="Welcome VIPs",
        trigger_type=TriggerType.LIST_JOINED,
        trigger_filters={"list": vip.pk},
        conditions=[],
        actions=[{"type": "create_task", "title": "Call", "assignee": "workflow_owner"}],
    )
    before = list_state()
    with pytest.raises(ListError, match="used by the workflow «Welcome VIPs»"):
        delete_list(contact_list=vip, actor=ria)
    assert list_state() == before
