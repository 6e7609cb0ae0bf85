import pytest
from django.db import transaction

from cadency.automation.models import ContactList, TriggerType, Workflow, WorkflowRun
from cadency.automation.services.lists import create_list
from cadency.automation.services.workflows import create_workflow
from cadency.contacts.editing import set_contact_field
from cadency.contacts.services import upsert_contact
from tests.automation.support import queued, run_automation
from tests.factories import make_contact, make_user

pytestmark = pytest.mark.django_db


def customer_task_workflow(owner_name: str = "ria") -> Workflow:
    owner = make_user(owner_name)
    return create_workflow(
        owner=owner,
        enabled=True,
        name="Customers get a welcome call",
        trigger_type=TriggerType.CONTACT_PROPERTY_CHANGED,
        trigger_filters={"field": "lifecycle_stage", "value": "customer"},
        conditions=[],
        actions=[{"type": "create_task", "title": "Welcome call", "assignee": "workflow_owner"}],
    )


def test_a_change_nobody_listens_to_queues_nothing() -> None:
    contact = make_contact()
    set_contact_field(contact=contact, field="lifecycle_stage", value="customer", actor=None)
    assert queued() == []


def test_a_committed_change_queues_one_reaction_and_the_workflow_runs() -> None:
    workflow = customer_task_workflow()
    contact = make_contact()
    set_contact_field(contact=contact, field="lifecycle_stage", value="customer", actor=None)
    assert len(queued("react")) == 1
    run_automation()
    run = WorkflowRun.objects.get(workflow=workflow)
    assert run.contact == contact
    assert run.steps[0]["outcome"] == "created"


def test_a_rolled_back_change_emits_nothing() -> None:
    customer_task_workflow()
    contact = make_contact()

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        set_contact_field(contact=contact, field="lifecycle_stage", value="customer", actor=None)
        assert len(queued("react")) == 1  # queued inside the transaction …
        raise Abort
    assert queued() == []  # … and gone with it
    run_automation()
    assert not WorkflowRun.objects.exists()


def test_running_the_same_reaction_twice_runs_each_workflow_once() -> None:
    workflow = customer_task_workflow()
    contact = make_contact()
    set_contact_field(contact=contact, field="lifecycle_stage", value="customer", actor=None)
    (task,) = queued("react")
    args = task.args_kwargs["args"]
    from cadency.automation.reactions import react_to

    react_to(*args[:1], depth=args[1])
    react_to(*args[:1], depth=args[1])
    assert WorkflowRun.objects.filter(workflow=workflow).count() == 1


def test_a_workflow_loop_stops_at_the_chain_limit(settings: object) -> None:
    owner = make_user("ria")
    for value, other in (("lead", "customer"), ("customer", "lead")):
        create_workflow(
            owner=owner,
            enabled=True,
            name=f"flip to {other}",
            trigger_type=TriggerType.CONTACT_PROPERTY_CHANGED,
            trigger_filters={"field": "lifecycle_stage", "value": value},
            conditions=[],
            actions=[{"type": "set_property", "field": "lifecycle_stage", "value": other}],
        )
    contact = make_contact(lifecycle_stage="lead")
    set_contact_field(contact=contact, field="lifecycle_stage", value="customer", actor=None)
    run_automation()
    assert WorkflowRun.objects.count() == 5  # CADENCY_AUTOMATION_MAX_CHAIN


def test_creating_a_contact_fills_a_dynamic_list_it_matches() -> None:
    vip = create_list(
        name="VIP",
        kind="dynamic",
        actor=None,
        conditions=[{"field": "properties.tier", "op": "is", "value": "gold"}],
    )
    contact, _ = upsert_contact(email="jane@acme.test", properties={"tier": "gold"})
    upsert_contact(email="john@acme.test", properties={"tier": "silver"})
    run_automation()
    assert list(
        ContactList.objects.get(pk=vip.pk).memberships.values_list("contact", flat=True)
    ) == [contact.pk]
