"""Unenrollment triggers: each kind, on the event and against current data when saved."""

from typing import Any

import pytest

from cadency.automation.models import TriggerKind
from cadency.automation.services.lists import add_to_list, create_list
from cadency.automation.services.triggers import TriggerError, add_trigger, preview
from cadency.contacts.editing import set_contact_field, update_company
from cadency.deals.services import create_deal, update_deal_stage
from cadency.ledger.models import Event
from cadency.sequences.models import Enrollment, EnrollmentStatus, UnenrollReason
from cadency.sequences.services.enrollment import enroll
from tests.automation.support import run_automation
from tests.factories import make_company, make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db

CUSTOMER = {"condition": {"field": "lifecycle_stage", "op": "is", "value": "customer"}}


@pytest.fixture
def ria() -> Any:
    user = make_user("ria")
    make_mailbox(user)
    return user


def enrolled(ria: Any, sequence: Any = None, **contact: Any) -> Enrollment:
    return enroll(
        contact=make_contact(**contact),
        sequence=sequence or make_sequence(ria),
        user=ria,
        run_first_step=False,
    )


def ended_by_trigger(enrollment: Enrollment) -> bool:
    enrollment.refresh_from_db()
    return (
        enrollment.status == EnrollmentStatus.UNENROLLED
        and enrollment.reason == UnenrollReason.UNENROLL_TRIGGER
    )


def test_a_property_reaching_the_value_unenrolls_when_it_happens(ria: Any) -> None:
    enrollment = enrolled(ria)
    trigger, ended = add_trigger(
        sequence=enrollment.sequence, kind="property_value", config=CUSTOMER, actor=ria
    )
    assert ended == 0
    set_contact_field(
        contact=enrollment.contact, field="lifecycle_stage", value="customer", actor=None
    )
    run_automation()
    assert ended_by_trigger(enrollment)
    assert enrollment.evidence["trigger"] == trigger.pk
    assert enrollment.evidence["event_kind"] == "contact_updated"
    assert "lifecycle_stage is “customer”" in enrollment.reason_text


def test_another_property_change_does_not_unenroll(ria: Any) -> None:
    enrollment = enrolled(ria)
    add_trigger(sequence=enrollment.sequence, kind="property_value", config=CUSTOMER, actor=ria)
    set_contact_field(
        contact=enrollment.contact, field="lifecycle_stage", value="opportunity", actor=None
    )
    set_contact_field(contact=enrollment.contact, field="first_name", value="Janet", actor=None)
    run_automation()
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE


def test_a_trigger_on_another_sequence_leaves_this_enrollment_alone(ria: Any) -> None:
    enrollment = enrolled(ria)
    add_trigger(
        sequence=make_sequence(ria, name="Other"), kind="property_value", config=CUSTOMER, actor=ria
    )
    set_contact_field(
        contact=enrollment.contact, field="lifecycle_stage", value="customer", actor=None
    )
    run_automation()
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE


def test_saving_a_trigger_ends_the_enrollments_it_is_already_true_for(ria: Any) -> None:
    sequence = make_sequence(ria)
    customers = [enrolled(ria, sequence, lifecycle_stage="customer") for _ in range(3)]
    lead = enrolled(ria, sequence)
    spec, would_end = preview(sequence, "property_value", CUSTOMER)
    assert would_end == 3
    assert not Event.objects.filter(kind="unenrolled").exists()  # a preview writes nothing
    trigger, ended = add_trigger(
        sequence=sequence, kind="property_value", config=CUSTOMER, actor=ria
    )
    assert ended == 3
    assert all(ended_by_trigger(e) for e in customers)
    assert all(
        e.evidence
        == {"trigger": trigger.pk, "trigger_description": spec.description, "on_save": True}
        for e in customers
    )
    lead.refresh_from_db()
    assert lead.status == EnrollmentStatus.ACTIVE
    assert Event.objects.get(kind="unenroll_trigger_added").data["ended"] == 3


def test_a_company_property_trigger_fires_for_every_enrolled_contact_there(ria: Any) -> None:
    acme = make_company()
    sequence = make_sequence(ria)
    jane, john = enrolled(ria, sequence, company=acme), enrolled(ria, sequence, company=acme)
    elsewhere = enrolled(ria, sequence)
    add_trigger(
        sequence=sequence,
        kind="property_value",
        config={"condition": {"field": "company.properties.status", "op": "is", "value": "client"}},
        actor=ria,
    )
    update_company(company=acme, actor=None, properties={"status": "client"})
    run_automation()
    assert ended_by_trigger(jane) and ended_by_trigger(john)
    assert not ended_by_trigger(elsewhere)


def test_a_deal_created_for_the_contacts_company_unenrolls(ria: Any) -> None:
    acme = make_company()
    sequence = make_sequence(ria)
    enrollment = enrolled(ria, sequence, company=acme)
    add_trigger(sequence=sequence, kind="deal_created", config={}, actor=ria)
    create_deal(actor=ria, name="Pilot", company=acme)
    run_automation()
    assert ended_by_trigger(enrollment)


def test_a_deal_naming_the_contact_unenrolls_even_without_a_company(ria: Any) -> None:
    sequence = make_sequence(ria)
    enrollment = enrolled(ria, sequence)
    add_trigger(sequence=sequence, kind="deal_created", config={}, actor=ria)
    create_deal(actor=ria, name="Pilot", contacts=[enrollment.contact])
    run_automation()
    assert ended_by_trigger(enrollment)


def test_a_deal_stage_trigger_waits_for_that_stage(ria: Any) -> None:
    acme = make_company()
    sequence = make_sequence(ria)
    enrollment = enrolled(ria, sequence, company=acme)
    add_trigger(sequence=sequence, kind="deal_stage", config={"stage": "won"}, actor=ria)
    deal = create_deal(actor=ria, name="Pilot", company=acme)
    update_deal_stage(deal=deal, stage="negotiation", actor=ria)
    run_automation()
    assert not ended_by_trigger(enrollment)
    update_deal_stage(deal=deal, stage="won", actor=ria)
    run_automation()
    assert ended_by_trigger(enrollment)


def test_deal_triggers_count_existing_deals_when_saved(ria: Any) -> None:
    acme = make_company()
    sequence = make_sequence(ria)
    with_deal, without = enrolled(ria, sequence, company=acme), enrolled(ria, sequence)
    create_deal(actor=ria, name="Pilot", company=acme, stage="won")
    assert preview(sequence, "deal_created", {})[1] == 1
    assert preview(sequence, "deal_stage", {"stage": "won"})[1] == 1
    assert preview(sequence, "deal_stage", {"stage": "lost"})[1] == 0
    add_trigger(sequence=sequence, kind="deal_created", config={}, actor=ria)
    assert ended_by_trigger(with_deal) and not ended_by_trigger(without)


def test_joining_a_list_unenrolls_and_members_are_counted_when_saved(ria: Any) -> None:
    sequence = make_sequence(ria)
    vip = create_list(name="Do not contact", kind="static", actor=ria)
    member, later = enrolled(ria, sequence), enrolled(ria, sequence)
    add_to_list(contact_list=vip, contact=member.contact, actor=ria)
    run_automation()
    assert preview(sequence, "list_joined", {"list": vip.pk})[1] == 1
    _, ended = add_trigger(
        sequence=sequence, kind="list_joined", config={"list": vip.pk}, actor=ria
    )
    assert ended == 1 and ended_by_trigger(member)
    add_to_list(contact_list=vip, contact=later.contact, actor=ria)
    run_automation()
    assert ended_by_trigger(later)


def test_joining_a_dynamic_list_through_a_property_change_unenrolls(ria: Any) -> None:
    sequence = make_sequence(ria)
    gold = create_list(
        name="Gold",
        kind="dynamic",
        actor=ria,
        conditions=[{"field": "properties.tier", "op": "is", "value": "gold"}],
    )
    enrollment = enrolled(ria, sequence)
    add_trigger(sequence=sequence, kind="list_joined", config={"list": gold.pk}, actor=ria)
    set_contact_field(contact=enrollment.contact, field="properties.tier", value="gold", actor=None)
    run_automation()
    assert ended_by_trigger(enrollment)


@pytest.mark.parametrize(
    ("kind", "config", "message"),
    [
        ("weather", {}, "unknown trigger kind 'weather'"),
        ("deal_stage", {"stage": "signed"}, "unknown deal stage 'signed'"),
        ("list_joined", {"list": 999999}, "no list 999999"),
        ("list_joined", {}, "name the list"),
        (
            "property_value",
            {"condition": {"field": "shoe", "op": "is", "value": "9"}},
            "unknown field 'shoe'",
        ),
    ],
)
def test_a_trigger_that_cannot_be_understood_is_refused(
    ria: Any, kind: str, config: dict[str, Any], message: str
) -> None:
    sequence = make_sequence(ria)
    with pytest.raises(TriggerError, match=message):
        add_trigger(sequence=sequence, kind=kind, config=config, actor=ria)
    assert not sequence.unenroll_triggers.exists()


def test_trigger_kinds_are_the_four_of_the_issue() -> None:
    assert set(TriggerKind.values) == {
        "property_value",
        "deal_created",
        "deal_stage",
        "list_joined",
    }


def test_a_long_condition_is_saved_with_a_shortened_description(ria: Any) -> None:
    sequence = make_sequence(ria)
    values = [f"segment-{i:03d}-" + "x" * 40 for i in range(10)]
    condition = {"field": "properties.segment", "op": "is_any_of", "value": values}
    trigger, _ = add_trigger(
        sequence=sequence, kind="property_value", config={"condition": condition}, actor=ria
    )
    assert len(trigger.description) == 300 and trigger.description.endswith("…")
    assert trigger.config["condition"]["value"] == values


@pytest.mark.parametrize("given", [True, 1e400, 2**63, -3, "12a", None])
def test_a_list_id_must_be_a_whole_number_in_range(ria: Any, given: Any) -> None:
    with pytest.raises(TriggerError, match="name the list"):
        add_trigger(
            sequence=make_sequence(ria), kind="list_joined", config={"list": given}, actor=ria
        )
