"""Each workflow action, refusals that do not stop the run, filters and conditions."""

from typing import Any

import pytest

from cadency.accounts.models import Role
from cadency.automation import actions
from cadency.automation.models import (
    RunStatus,
    TriggerType,
    WebhookDelivery,
    Workflow,
    WorkflowRun,
)
from cadency.automation.services.lists import add_to_list, create_list
from cadency.automation.services.workflows import WorkflowError, create_workflow, set_enabled
from cadency.contacts.editing import set_contact_field, update_company
from cadency.contacts.models import Contact
from cadency.deals.services import create_deal, update_deal_stage
from cadency.ledger.models import Event
from cadency.sequences.models import (
    Enrollment,
    EnrollmentStatus,
    Sequence,
    StepRunState,
    Task,
    UnenrollReason,
)
from cadency.sequences.services.enrollment import enroll, unenroll
from tests.automation.support import run_automation
from tests.factories import make_company, make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def ria() -> Any:
    """A manager: her workflows may enroll as the contact's owner (a rep's may not)."""
    user = make_user("ria", role=Role.MANAGER)
    make_mailbox(user)
    return user


def on_customer(owner: Any, *steps: dict[str, Any], **spec: Any) -> Workflow:
    return create_workflow(
        owner=owner,
        enabled=True,
        name=spec.pop("name", "On customer"),
        trigger_type=spec.pop("trigger_type", TriggerType.CONTACT_PROPERTY_CHANGED),
        trigger_filters=spec.pop(
            "trigger_filters", {"field": "lifecycle_stage", "value": "customer"}
        ),
        conditions=spec.pop("conditions", []),
        actions=list(steps),
    )


def become_customer(contact: Contact) -> None:
    set_contact_field(contact=contact, field="lifecycle_stage", value="customer", actor=None)
    run_automation()


def test_enroll_enrolls_as_the_chosen_user_and_queues_the_first_step(ria: Any) -> None:
    onboarding = make_sequence(ria, name="Onboarding")
    workflow = on_customer(
        ria, {"type": "enroll", "sequence": onboarding.pk, "as": "workflow_owner"}
    )
    contact = make_contact()
    become_customer(contact)
    enrollment = Enrollment.objects.get(contact=contact)
    assert (enrollment.sequence, enrollment.enrolled_by) == (onboarding, ria)
    assert enrollment.step_runs.get().state == StepRunState.SCHEDULED
    run = WorkflowRun.objects.get(workflow=workflow)
    assert run.status == RunStatus.SUCCEEDED
    assert run.steps[0]["outcome"] == "enrolled"


def test_a_refused_enrollment_is_recorded_and_the_next_action_still_runs(ria: Any) -> None:
    first, second = make_sequence(ria, name="First"), make_sequence(ria, name="Second")
    contact = make_contact(owner=ria)
    enroll(contact=contact, sequence=first, user=ria, run_first_step=False)
    workflow = on_customer(
        ria,
        {"type": "enroll", "sequence": second.pk, "as": "contact_owner"},
        {"type": "create_task", "title": "Call the new customer", "assignee": "contact_owner"},
    )
    become_customer(contact)
    run = WorkflowRun.objects.get(workflow=workflow)
    assert run.status == RunStatus.PARTLY
    assert run.steps[0]["outcome"] == "refused"
    assert "already_enrolled" in run.steps[0]["detail"]
    assert run.steps[1]["outcome"] == "created"
    assert Enrollment.objects.filter(contact=contact).count() == 1


def test_enrolling_as_the_contact_owner_is_refused_when_there_is_none(ria: Any) -> None:
    sequence = make_sequence(ria)
    workflow = on_customer(ria, {"type": "enroll", "sequence": sequence.pk, "as": "contact_owner"})
    become_customer(make_contact())
    (step,) = WorkflowRun.objects.get(workflow=workflow).steps
    assert (step["outcome"], step["detail"]) == ("refused", "the contact has no owner to enroll as")


def test_unenroll_ends_with_reason_workflow_and_names_the_workflow_and_run(ria: Any) -> None:
    sequence = make_sequence(ria, name="Intro")
    contact = make_contact()
    enrollment = enroll(contact=contact, sequence=sequence, user=ria, run_first_step=False)
    workflow = on_customer(ria, {"type": "unenroll", "sequence": sequence.pk})
    become_customer(contact)
    enrollment.refresh_from_db()
    run = WorkflowRun.objects.get(workflow=workflow)
    assert (enrollment.status, enrollment.reason) == (
        EnrollmentStatus.UNENROLLED,
        UnenrollReason.WORKFLOW,
    )
    assert enrollment.evidence["workflow"] == workflow.pk
    assert enrollment.evidence["run"] == run.pk
    assert enrollment.evidence["event"] == run.event_id
    assert "by the workflow «On customer»" in enrollment.reason_text
    assert enrollment.step_runs.get().state == StepRunState.CANCELLED


def test_unenroll_from_another_sequence_leaves_this_one_alone(ria: Any) -> None:
    intro, other = make_sequence(ria, name="Intro"), make_sequence(ria, name="Other")
    contact = make_contact()
    enrollment = enroll(contact=contact, sequence=intro, user=ria, run_first_step=False)
    workflow = on_customer(ria, {"type": "unenroll", "sequence": other.pk})
    become_customer(contact)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE
    assert WorkflowRun.objects.get(workflow=workflow).steps[0]["outcome"] == "not_enrolled"


def test_unenroll_from_all_sequences_ends_whatever_is_open(ria: Any) -> None:
    contact = make_contact()
    enrollment = enroll(
        contact=contact, sequence=make_sequence(ria), user=ria, run_first_step=False
    )
    on_customer(ria, {"type": "unenroll", "sequence": None})
    become_customer(contact)
    enrollment.refresh_from_db()
    assert enrollment.reason == UnenrollReason.WORKFLOW


def test_set_property_on_the_contact_and_on_its_company(ria: Any) -> None:
    company = make_company()
    contact = make_contact(company=company)
    on_customer(
        ria,
        {"type": "set_property", "field": "properties.onboarding", "value": "started"},
        {"type": "set_property", "field": "company.properties.status", "value": "client"},
        {"type": "set_property", "field": "owner", "value": "ria"},
    )
    become_customer(contact)
    contact.refresh_from_db()
    company.refresh_from_db()
    assert contact.properties["onboarding"] == "started"
    assert contact.owner == ria
    assert company.properties == {"status": "client"}
    assert Event.objects.filter(kind="company_updated").count() == 1


def test_create_task_for_the_contact_owner_due_later(ria: Any) -> None:
    contact = make_contact(owner=ria)
    on_customer(
        ria,
        {
            "type": "create_task",
            "title": "Kick-off call",
            "kind": "call",
            "assignee": "contact_owner",
            "due_in_days": 2,
        },
    )
    become_customer(contact)
    task = Task.objects.get(contact=contact)
    assert (task.assignee, task.kind, task.title) == (ria, "call", "Kick-off call")
    assert (task.due_at - task.created_at).days in (1, 2)
    assert Event.objects.filter(kind="task_created", contact=contact).exists()


def test_webhook_queues_a_signed_delivery_with_the_event_and_contact(
    ria: Any, settings: Any
) -> None:
    settings.CADENCY_WEBHOOKS_ALLOW_HTTP = True
    contact = make_contact()
    on_customer(ria, {"type": "webhook", "url": "http://127.0.0.1:9/hook"})
    set_contact_field(contact=contact, field="lifecycle_stage", value="customer", actor=None)
    run_automation(only="react")
    delivery = WebhookDelivery.objects.get()
    assert delivery.payload["contact"]["email"] == contact.email
    assert delivery.payload["event"]["kind"] == "contact_updated"
    assert delivery.payload["event"]["data"]["changes"]["lifecycle_stage"] == ["lead", "customer"]


def test_an_unexpected_error_fails_the_run_and_stops_the_next_actions(
    ria: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> actions.Outcome:
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(actions.PERFORM, "set_property", broken)
    contact = make_contact(owner=ria)
    workflow = on_customer(
        ria,
        {"type": "set_property", "field": "properties.x", "value": "y"},
        {"type": "create_task", "title": "Never", "assignee": "contact_owner"},
    )
    become_customer(contact)
    run = WorkflowRun.objects.get(workflow=workflow)
    assert run.status == RunStatus.FAILED
    assert run.steps == [
        {"action": "set_property", "outcome": "error", "detail": "RuntimeError: disk on fire"}
    ]
    assert not Task.objects.exists()


def test_conditions_on_the_contact_decide_whether_it_runs(ria: Any) -> None:
    workflow = on_customer(
        ria,
        {"type": "create_task", "title": "Gold customer", "assignee": "workflow_owner"},
        conditions=[{"field": "properties.tier", "op": "is", "value": "gold"}],
    )
    become_customer(make_contact(properties={"tier": "silver"}))
    gold = make_contact(properties={"tier": "gold"})
    become_customer(gold)
    assert list(
        WorkflowRun.objects.filter(workflow=workflow).values_list("contact", flat=True)
    ) == [gold.pk]


def test_a_disabled_workflow_does_not_run(ria: Any) -> None:
    workflow = on_customer(ria, {"type": "create_task", "title": "x", "assignee": "workflow_owner"})
    set_enabled(workflow=workflow, enabled=False, actor=ria)
    become_customer(make_contact())
    assert not WorkflowRun.objects.exists()


def test_a_change_to_another_value_does_not_match_the_value_filter(ria: Any) -> None:
    on_customer(ria, {"type": "create_task", "title": "x", "assignee": "workflow_owner"})
    contact = make_contact()
    set_contact_field(contact=contact, field="lifecycle_stage", value="opportunity", actor=None)
    run_automation()
    assert not WorkflowRun.objects.exists()


def test_a_company_event_runs_once_for_each_of_its_contacts(ria: Any) -> None:
    company = make_company()
    jane, john = make_contact(company=company), make_contact(company=company)
    make_contact()  # elsewhere
    workflow = on_customer(
        ria,
        {"type": "create_task", "title": "Account review", "assignee": "workflow_owner"},
        trigger_type=TriggerType.COMPANY_PROPERTY_CHANGED,
        trigger_filters={"field": "properties.plan", "value": "enterprise"},
    )
    update_company(company=company, actor=None, properties={"plan": "Enterprise"})
    run_automation()
    contacts = set(WorkflowRun.objects.filter(workflow=workflow).values_list("contact", flat=True))
    assert contacts == {jane.pk, john.pk}


def test_deal_stage_list_sequence_and_reason_filters(ria: Any) -> None:
    company = make_company()
    contact = make_contact(company=company)
    intro = make_sequence(ria, name="Intro")
    vip = create_list(name="VIP", kind="static", actor=None)
    task = {"type": "create_task", "title": "t", "assignee": "workflow_owner"}
    won = on_customer(
        ria,
        task,
        name="won",
        trigger_type=TriggerType.DEAL_STAGE_CHANGED,
        trigger_filters={"stage": "won"},
    )
    joined = on_customer(
        ria,
        task,
        name="vip",
        trigger_type=TriggerType.LIST_JOINED,
        trigger_filters={"list": vip.pk},
    )
    ended = on_customer(
        ria,
        task,
        name="ended",
        trigger_type=TriggerType.ENROLLMENT_ENDED,
        trigger_filters={"sequence": intro.pk, "reason": "manual"},
    )
    deal = create_deal(actor=ria, name="Pilot", company=company)
    update_deal_stage(deal=deal, stage="proposal", actor=ria)
    update_deal_stage(deal=deal, stage="won", actor=ria)
    add_to_list(contact_list=vip, contact=contact, actor=ria)
    enrollment = enroll(contact=contact, sequence=intro, user=ria, run_first_step=False)
    unenroll(enrollment=enrollment, reason=UnenrollReason.MANUAL, actor=ria)
    run_automation()
    for workflow in (won, joined, ended):
        assert WorkflowRun.objects.filter(workflow=workflow).count() == 1, workflow.name


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"actions": []}, "at least one action"),
        ({"actions": [{"type": "teleport"}]}, "action 1: type must be one of"),
        (
            {"actions": [{"type": "enroll", "sequence": 999999}]},
            r"action 1 \(enroll\): no sequence",
        ),
        ({"trigger_type": "moon_phase"}, "unknown trigger 'moon_phase'"),
        ({"trigger_filters": {"list": 1}}, "contact_property_changed takes no filter 'list'"),
        ({"conditions": [{"field": "x", "op": "is", "value": "y"}]}, "unknown field 'x'"),
        ({"actions": [{"type": "webhook", "url": "ftp://example.com/"}]}, "not an http"),
        (
            {"actions": [{"type": "set_property", "field": "lifecycle_stage", "value": "king"}]},
            "unknown lifecycle stage",
        ),
        ({"name": " "}, "give the workflow a name"),
    ],
)
def test_a_workflow_that_cannot_run_is_refused_and_nothing_is_written(
    ria: Any, spec: dict[str, Any], message: str
) -> None:
    base: dict[str, Any] = {
        "name": "W",
        "trigger_type": TriggerType.CONTACT_PROPERTY_CHANGED,
        "trigger_filters": {},
        "conditions": [],
        "actions": [{"type": "create_task", "title": "t"}],
    }
    with pytest.raises(WorkflowError, match=message):
        create_workflow(owner=ria, **{**base, **spec})
    assert not Workflow.objects.exists()
    assert not Sequence.objects.exists() or True


def test_a_reps_workflow_enrolls_only_as_the_rep() -> None:
    rep = make_user("rex")
    sequence = make_sequence(rep)
    for who in ("contact_owner", make_user("other").pk):
        with pytest.raises(WorkflowError, match="only a manager or an admin may enroll as"):
            on_customer(rep, {"type": "enroll", "sequence": sequence.pk, "as": who})
    on_customer(rep, {"type": "enroll", "sequence": sequence.pk, "as": rep.pk})
    on_customer(rep, {"type": "enroll", "sequence": sequence.pk, "as": "workflow_owner"})
    assert Workflow.objects.count() == 2
