"""The sequence's Automation tab: workflow shortcuts, and unenrollment triggers added
after a preview (which writes nothing), removed, refused to reps without rights, and
bad input that changes nothing."""

from typing import Any

import pytest
from django.test import Client

from cadency.automation.models import TriggerType, UnenrollTrigger
from cadency.automation.services.lists import add_to_list, create_list
from cadency.automation.services.triggers import add_trigger
from cadency.automation.services.workflows import create_workflow
from cadency.deals.services import create_deal
from cadency.ledger.models import Event
from cadency.sequences.services.lifecycle import delete_sequence
from tests.automation.trigger_scene import (
    CUSTOMER,
    Scene,
    assert_ended_by,
    scene,
    snapshot,
    states,
)
from tests.factories import make_sequence
from tests.sequences.pages import client_for, messages_of

pytestmark = pytest.mark.django_db

CUSTOMER_FORM = {
    "kind": "property_value",
    "field": "lifecycle_stage",
    "op": "is",
    "value": "customer",
}


@pytest.fixture
def s() -> Scene:
    return scene()


def tab(s: Scene) -> str:
    return f"/sequences/{s.sequence.pk}/automation/"


def page_text(client: Client, s: Scene) -> str:
    response = client.get(tab(s))
    assert response.status_code == 200
    return str(response.content.decode())


def test_the_preview_counts_the_open_enrollments_it_would_end_and_writes_nothing(
    s: Scene,
) -> None:
    before = snapshot()
    response = client_for(s.alice).post(f"{tab(s)}triggers/preview/", CUSTOMER_FORM)
    assert response.status_code == 200
    html = response.content.decode()
    assert "already true for <strong>3</strong> open enrollments of this sequence" in html
    assert "(reason <code>unenroll_trigger</code>)" in html
    for name in ("Cara Lane", "Cole Hart", "Cruz Moss"):
        assert name in html
    for name in ("Lena Park", "Liam Reed", "Olga Vance", "Eve Stone"):
        assert name not in html
    assert (
        'data-confirm="Save this trigger (the enrollment ends when lifecycle_stage is '
        "“customer”)? It is already true for 3 open enrollments" in html
    )
    assert "3 open enrollments of this sequence: saving it will unenroll them now" in html
    assert snapshot() == before


def test_the_preview_lists_ten_names_and_says_how_many_more(s: Scene) -> None:
    response = client_for(s.alice).post(
        f"{tab(s)}triggers/preview/",
        {"kind": "property_value", "field": "lifecycle_stage", "op": "is_set"},
    )
    html = response.content.decode()
    assert "already true for <strong>5</strong> open enrollments" in html
    assert "… and" not in html  # five names fit
    response = client_for(s.alice).post(
        f"{tab(s)}triggers/preview/",
        {"kind": "property_value", "field": "lifecycle_stage", "op": "is_not", "value": "x"},
    )
    assert "already true for <strong>5</strong>" in response.content.decode()


def test_a_preview_without_javascript_shows_the_page_with_the_preview_and_save(
    s: Scene,
) -> None:
    before = snapshot()
    response = client_for(s.alice).post(f"{tab(s)}triggers/", {**CUSTOMER_FORM, "preview": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Unenrollment triggers" in html
    assert "already true for <strong>3</strong> open enrollments" in html
    assert "Save trigger" in html
    assert 'value="customer"' in html  # the form keeps what was typed
    assert snapshot() == before


def test_saving_ends_exactly_the_matching_open_enrollments(s: Scene) -> None:
    untouched = states(s.untouched)
    client = client_for(s.alice)
    response = client.post(f"{tab(s)}triggers/", CUSTOMER_FORM)
    assert response.status_code == 302
    assert response["Location"] == tab(s)
    trigger = UnenrollTrigger.objects.get()
    assert trigger.sequence == s.sequence and trigger.created_by == s.alice
    assert trigger.config == {"condition": CUSTOMER}
    assert messages_of(response) == [
        "Saved the trigger: the enrollment ends when lifecycle_stage is “customer”. "
        "It ended 3 open enrollments it was already true for."
    ]
    assert_ended_by(trigger, s.customers)
    assert states(s.untouched) == untouched
    assert Event.objects.filter(kind="unenroll_trigger_added", actor=s.alice).count() == 1
    html = page_text(client, s)
    assert "lifecycle_stage is “customer”" in html
    assert "3 enrollments" in html  # ended so far
    assert "Alice Example" in html


def test_a_manager_adds_a_trigger_to_a_reps_sequence(s: Scene) -> None:
    response = client_for(s.maya).post(f"{tab(s)}triggers/", {"kind": "deal_stage", "stage": "won"})
    assert response.status_code == 302
    trigger = UnenrollTrigger.objects.get()
    assert trigger.config == {"stage": "won"} and trigger.created_by == s.maya


def test_deal_and_list_triggers_preview_what_they_would_end(s: Scene) -> None:
    cara, cole = s.customers[0].contact, s.customers[1].contact
    create_deal(name="Acme renewal", actor=s.alice, contacts=[cara], stage="proposal")
    client = client_for(s.alice)
    created = client.post(f"{tab(s)}triggers/preview/", {"kind": "deal_created"})
    assert "already true for <strong>1</strong> open enrollment of" in created.content.decode()
    won = client.post(f"{tab(s)}triggers/preview/", {"kind": "deal_stage", "stage": "won"})
    assert "not true for any open enrollment" in won.content.decode()
    vip = create_list(name="VIP", kind="static", actor=s.alice)
    add_to_list(contact_list=vip, contact=cole, actor=s.alice)
    joined = client.post(f"{tab(s)}triggers/preview/", {"kind": "list_joined", "list": vip.pk})
    html = joined.content.decode()
    assert "already true for <strong>1</strong> open enrollment of" in html
    assert "Cole Hart" in html and "the contact joins the list «VIP»" in html


def test_a_property_trigger_names_the_property(s: Scene) -> None:
    s.customers[0].contact.properties = {"plan": "Pro"}
    s.customers[0].contact.save()
    response = client_for(s.alice).post(
        f"{tab(s)}triggers/preview/",
        {
            "kind": "property_value",
            "field": "properties",
            "property": "plan",
            "op": "is_any_of",
            "value": "pro, enterprise",
        },
    )
    html = response.content.decode()
    assert "properties.plan is “pro” or “enterprise”" in html
    assert "already true for <strong>1</strong> open enrollment of" in html


def test_removing_a_trigger_keeps_what_it_ended(s: Scene) -> None:
    trigger, ended = add_trigger(
        sequence=s.sequence, kind="property_value", config={"condition": CUSTOMER}, actor=s.alice
    )
    assert ended == 3
    client = client_for(s.alice)
    assert "3 enrollments" in page_text(client, s)
    response = client.post(f"{tab(s)}triggers/{trigger.pk}/remove/")
    assert response.status_code == 302
    assert messages_of(response) == [
        "Removed the trigger: the enrollment ends when lifecycle_stage is “customer”. "
        "The enrollments it ended stay ended."
    ]
    assert not UnenrollTrigger.objects.exists()
    assert_ended_by(trigger, s.customers)
    assert Event.objects.filter(kind="unenroll_trigger_removed").count() == 1
    assert "This sequence has no unenrollment trigger." in page_text(client, s)


def test_a_rep_without_rights_sees_the_triggers_but_cannot_change_them(s: Scene) -> None:
    trigger, _ = add_trigger(sequence=s.sequence, kind="deal_created", config={}, actor=s.alice)
    before = snapshot()
    bob = client_for(s.bob)
    html = page_text(bob, s)
    assert "a deal is created for the contact or their company" in html
    assert "Only the owner (Alice Example), a manager or an admin" in html
    assert "Add a trigger" not in html and "Remove" not in html
    assert bob.post(f"{tab(s)}triggers/preview/", CUSTOMER_FORM).status_code == 403
    assert bob.post(f"{tab(s)}triggers/", CUSTOMER_FORM).status_code == 403
    assert bob.post(f"{tab(s)}triggers/{trigger.pk}/remove/").status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"kind": "list_joined", "list": "999999"}, "No list 999999. Nothing was saved."),
        ({"kind": "list_joined", "list": "99999999999999999999999"}, "No list &#x27;9999"),
        ({"kind": "list_joined"}, "Choose a list. Nothing was saved."),
        ({"kind": "deal_stage", "stage": "signed"}, "Unknown deal stage &#x27;signed&#x27;"),
        ({"kind": "teleported"}, "Unknown trigger kind &#x27;teleported&#x27;"),
        ({**CUSTOMER_FORM, "value": ""}, "Lifecycle_stage is: give a value"),
        ({**CUSTOMER_FORM, "op": "resembles"}, "Unknown operator &#x27;resembles&#x27;"),
        ({**CUSTOMER_FORM, "field": "properties"}, "Name the property"),
        ({**CUSTOMER_FORM, "field": "properties", "property": "a b"}, "a property name starts"),
        ({**CUSTOMER_FORM, "value": "x" * 101}, "longer than 100 characters"),
        ({**CUSTOMER_FORM, "value": "cus\x00tomer"}, "The form contains a NUL character"),
    ],
)
def test_bad_input_gets_a_clear_error_and_writes_nothing(
    s: Scene, form: dict[str, Any], error: str
) -> None:
    before = snapshot()
    client = client_for(s.alice)
    saved = client.post(f"{tab(s)}triggers/", form)
    assert saved.status_code == 400
    assert error in saved.content.decode()
    previewed = client.post(f"{tab(s)}triggers/preview/", form)
    assert previewed.status_code == 200
    assert error in previewed.content.decode()
    assert "Save trigger" not in previewed.content.decode()
    assert snapshot() == before


def test_unknown_sequences_and_triggers_are_not_found(s: Scene) -> None:
    other = make_sequence(s.alice, name="Other of Alice")
    trigger, _ = add_trigger(sequence=other, kind="deal_created", config={}, actor=s.alice)
    before = snapshot()
    client = client_for(s.alice)
    assert client.post(f"{tab(s)}triggers/{trigger.pk}/remove/").status_code == 404
    assert client.post(f"{tab(s)}triggers/99999/remove/").status_code == 404
    assert client.post("/sequences/99999/automation/triggers/", CUSTOMER_FORM).status_code == 404
    assert client.get(f"{tab(s)}triggers/").status_code == 405
    assert snapshot() == before


def test_a_deleted_sequence_takes_no_new_trigger(s: Scene) -> None:
    delete_sequence(sequence=s.sequence, actor=s.alice)
    before = snapshot()
    client = client_for(s.alice)
    assert "triggers can no longer be added" in page_text(client, s)
    response = client.post(f"{tab(s)}triggers/", {"kind": "deal_created"})
    assert response.status_code == 400
    assert "«Intro» was deleted" in response.content.decode()
    assert snapshot() == before


def test_the_tab_links_the_workflows_that_enroll_into_or_unenroll_from_it(s: Scene) -> None:
    other = make_sequence(s.alice, name="Other of Alice")

    def workflow(name: str, actions: list[dict[str, Any]], enabled: bool = True) -> int:
        made = create_workflow(
            owner=s.alice,
            enabled=enabled,
            name=name,
            trigger_type=TriggerType.CONTACT_CREATED,
            trigger_filters={},
            conditions=[],
            actions=actions,
        )
        return made.pk

    enrolls = workflow("New leads start Intro", [{"type": "enroll", "sequence": s.sequence.pk}])
    paused = workflow(
        "Partners start Intro", [{"type": "enroll", "sequence": s.sequence.pk}], enabled=False
    )
    workflow("New leads start Other", [{"type": "enroll", "sequence": other.pk}])
    stops = workflow("Stop Intro", [{"type": "unenroll", "sequence": s.sequence.pk}])
    stops_all = workflow("Stop everything", [{"type": "unenroll", "sequence": None}])
    workflow("Stop Other", [{"type": "unenroll", "sequence": other.pk}])
    html = page_text(client_for(s.bob), s)
    for pk in (enrolls, paused, stops, stops_all):
        assert f'href="/workflows/{pk}/"' in html
    assert "New leads start Other" not in html and "Stop Other" not in html
    assert '<span class="badge active">On</span>' in html
    assert '<span class="badge">Off</span>' in html
    assert "unenrolls from every sequence" in html
    assert f'href="/workflows/new/?action=enroll&amp;sequence={s.sequence.pk}"' in html
