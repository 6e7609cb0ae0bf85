"""/sequences/{id}/unenroll-triggers: list, preview (writes nothing), add (ends the
open enrollments it is already true for), remove; permissions and bad input."""

from typing import Any

import pytest

from cadency.automation.models import UnenrollTrigger
from cadency.automation.services.lists import create_list
from cadency.automation.services.triggers import add_trigger
from cadency.sequences.services.lifecycle import delete_sequence
from tests.api.support import api_for, error_of
from tests.automation.trigger_scene import (
    CUSTOMER,
    Scene,
    assert_ended_by,
    scene,
    snapshot,
    states,
)
from tests.factories import make_sequence

pytestmark = pytest.mark.django_db

CUSTOMER_BODY = {"kind": "property_value", "config": {"condition": CUSTOMER}}


@pytest.fixture
def s() -> Scene:
    return scene()


def path(s: Scene, rest: str = "") -> str:
    return f"/sequences/{s.sequence.pk}/unenroll-triggers{rest}"


def test_the_preview_says_how_many_open_enrollments_it_would_end(s: Scene) -> None:
    alice = api_for(s.alice)
    before = snapshot()
    response = alice.post(path(s, "/preview"), CUSTOMER_BODY)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "kind": "property_value",
        "config": {"condition": CUSTOMER},
        "description": "lifecycle_stage is “customer”",
        "would_end": 3,
    }
    assert snapshot() == before


def test_adding_a_trigger_ends_the_matching_open_enrollments(s: Scene) -> None:
    untouched = states(s.untouched)
    response = api_for(s.alice).post(path(s), CUSTOMER_BODY)
    assert response.status_code == 201, response.content
    body = response.json()
    trigger = UnenrollTrigger.objects.get()
    assert body["id"] == trigger.pk
    assert body["ended"] == 3 and body["ended_so_far"] == 3
    assert body["sequence"] == {"id": s.sequence.pk, "name": "Intro"}
    assert body["created_by"]["username"] == "alice"
    assert body["description"] == "lifecycle_stage is “customer”"
    assert_ended_by(trigger, s.customers)
    assert states(s.untouched) == untouched


def test_listing_shows_each_trigger_with_what_it_ended(s: Scene) -> None:
    first, _ = add_trigger(
        sequence=s.sequence, kind="property_value", config={"condition": CUSTOMER}, actor=s.alice
    )
    second, _ = add_trigger(
        sequence=s.sequence, kind="deal_stage", config={"stage": "won"}, actor=s.maya
    )
    other = make_sequence(s.bob, name="Bob's")
    add_trigger(sequence=other, kind="deal_created", config={}, actor=s.bob)
    response = api_for(s.bob).get(path(s))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [(t["id"], t["kind"], t["ended_so_far"]) for t in body["items"]] == [
        (first.pk, "property_value", 3),
        (second.pk, "deal_stage", 0),
    ]
    assert body["items"][1]["config"] == {"stage": "won"}
    assert body["items"][1]["created_by"]["username"] == "maya"


def test_removing_a_trigger_keeps_what_it_ended(s: Scene) -> None:
    trigger, _ = add_trigger(
        sequence=s.sequence, kind="property_value", config={"condition": CUSTOMER}, actor=s.alice
    )
    response = api_for(s.maya).delete(path(s, f"/{trigger.pk}"))
    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": trigger.pk,
        "description": "lifecycle_stage is “customer”",
        "ended_so_far": 3,
    }
    assert not UnenrollTrigger.objects.exists()
    assert_ended_by(trigger, s.customers)


def test_a_rep_may_read_but_not_change_another_reps_triggers(s: Scene) -> None:
    trigger, _ = add_trigger(sequence=s.sequence, kind="deal_created", config={}, actor=s.alice)
    bob = api_for(s.bob)
    before = snapshot()
    assert bob.get(path(s)).status_code == 200
    assert "belongs to another user" in error_of(
        bob.post(path(s, "/preview"), CUSTOMER_BODY), 403, "forbidden"
    )
    error_of(bob.post(path(s), CUSTOMER_BODY), 403, "forbidden")
    error_of(bob.delete(path(s, f"/{trigger.pk}")), 403, "forbidden")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "list_joined", "config": {"list": 999}}, "config: no list 999"),
        ({"kind": "list_joined", "config": {}}, "config: name the list"),
        ({"kind": "list_joined", "config": {"list": "7"}}, "config.list"),
        ({"kind": "deal_stage", "config": {"stage": "signed"}}, "config.stage"),
        ({"kind": "deal_stage", "config": {}}, "config: choose a deal stage"),
        ({"kind": "teleported"}, "kind"),
        ({"kind": "property_value"}, "config: a condition is an object"),
        (
            {"kind": "property_value", "config": {"condition": {**CUSTOMER, "value": ""}}},
            "config: lifecycle_stage is: give a value",
        ),
        (
            {"kind": "property_value", "config": {"condition": {**CUSTOMER, "field": "mood"}}},
            "config: unknown field 'mood'",
        ),
        ({"kind": "deal_created", "config": {"colour": "red"}}, "config.colour"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(
    s: Scene, body: dict[str, Any], message: str
) -> None:
    alice = api_for(s.alice)
    before = snapshot()
    for where in (path(s), path(s, "/preview")):
        assert message in error_of(alice.post(where, body), 400, "invalid")
    assert snapshot() == before


def test_unknown_ids_are_not_found_and_change_nothing(s: Scene) -> None:
    other = make_sequence(s.alice, name="Other of Alice")
    elsewhere, _ = add_trigger(sequence=other, kind="deal_created", config={}, actor=s.alice)
    gone = create_list(name="VIP", kind="static", actor=s.alice)
    gone.delete()
    alice = api_for(s.alice)
    before = snapshot()
    assert "no sequence with id 99999" in error_of(
        alice.post("/sequences/99999/unenroll-triggers", CUSTOMER_BODY), 404, "not_found"
    )
    error_of(alice.get("/sequences/99999/unenroll-triggers"), 404, "not_found")
    assert "no trigger with id" in error_of(
        alice.delete(path(s, f"/{elsewhere.pk}")), 404, "not_found"
    )
    error_of(
        alice.post(path(s), {"kind": "list_joined", "config": {"list": gone.pk}}), 400, "invalid"
    )
    assert snapshot() == before


def test_a_deleted_sequence_takes_no_new_trigger(s: Scene) -> None:
    delete_sequence(sequence=s.sequence, actor=s.alice)
    alice = api_for(s.alice)
    before = snapshot()
    error_of(alice.post(path(s), {"kind": "deal_created"}), 409, "conflict")
    error_of(alice.post(path(s, "/preview"), {"kind": "deal_created"}), 409, "conflict")
    assert snapshot() == before


def test_without_a_token_nothing_is_answered(s: Scene) -> None:
    error_of(api_for().get(path(s)), 401, "unauthorized")
