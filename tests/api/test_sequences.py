"""/sequences: list with counts, get with steps, steps, and create from a description."""

from typing import Any

import pytest
from django.utils import timezone

from cadency.accounts.models import User
from cadency.ledger.models import Event
from cadency.sequences.models import Sequence
from tests.api.support import Api, enrolled, error_of, snapshot, task_first_sequence
from tests.factories import make_sequence

pytestmark = pytest.mark.django_db

SPEC = {
    "name": "Intro",
    "settings": {
        "send_window": ["08:30", "17:30"],
        "send_days": ["mon", "tue", "wed", "thu", "fri"],
        "business_days_only": True,
        "unenroll_same_company": True,
    },
    "steps": [
        {
            "type": "automated_email",
            "subject": 'Hi {{ contact.first_name | "there" }}',
            "body": "Hello",
        },
        {"type": "call", "delay": 2, "delay_unit": "business_days", "title": "Call them"},
    ],
}


def test_it_lists_sequences_with_their_enrollment_counts(
    as_alice: Api, alice: User, bob: User
) -> None:
    intro = task_first_sequence(alice, "Intro")
    enrolled(alice, intro)
    make_sequence(bob, name="Zeta")
    page = as_alice.get("/sequences").json()
    assert [s["name"] for s in page["items"]] == ["Intro", "Zeta"]
    first = page["items"][0]
    assert first["owner"]["username"] == "alice"
    assert first["enrollments"] == {
        "enrolled": 1,
        "active": 1,
        "paused": 0,
        "finished": 0,
        "unenrolled": 0,
    }
    assert first["settings"]["send_days"] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert as_alice.get("/sequences", owner=bob.pk).json()["count"] == 1


def test_deleted_sequences_are_left_out_unless_asked(as_alice: Api, alice: User) -> None:
    sequence = make_sequence(alice)
    sequence.archived_at = timezone.now()
    sequence.save()
    assert as_alice.get("/sequences").json()["count"] == 0
    listed = as_alice.get("/sequences", include_deleted=True).json()["items"]
    assert listed[0]["deleted_at"] is not None


def test_it_shows_a_sequence_with_its_steps(as_alice: Api, alice: User) -> None:
    sequence = make_sequence(alice)
    body = as_alice.get(f"/sequences/{sequence.pk}").json()
    assert [(s["position"], s["type"], s["delay"]) for s in body["steps"]] == [
        (1, "automated_email", 0),
        (2, "automated_email", 2),
    ]
    steps = as_alice.get(f"/sequences/{sequence.pk}/steps").json()
    assert steps["count"] == 2
    step = as_alice.get(f"/sequences/{sequence.pk}/steps/2").json()
    assert step["body"].startswith("Hi {{ contact.first_name }}")


def test_unknown_sequences_and_steps_are_not_found(as_alice: Api, alice: User) -> None:
    sequence = make_sequence(alice)
    error_of(as_alice.get("/sequences/999"), 404, "not_found")
    error_of(as_alice.get("/sequences/999/steps"), 404, "not_found")
    message = error_of(as_alice.get(f"/sequences/{sequence.pk}/steps/3"), 404, "not_found")
    assert "no step 3" in message
    error_of(as_alice.get("/sequences", owner=999), 404, "not_found")


def test_it_creates_a_sequence_owned_by_the_token_owner(as_alice: Api, alice: User) -> None:
    response = as_alice.post("/sequences", SPEC)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"]["username"] == "alice"
    assert body["settings"]["send_window"] == ["08:30", "17:30"]
    assert body["settings"]["unenroll_same_company"] is True
    assert [(s["type"], s["delay_unit"]) for s in body["steps"]] == [
        ("automated_email", "days"),
        ("call", "business_days"),
    ]
    sequence = Sequence.objects.get(pk=body["id"])
    assert sequence.owner == alice
    assert Event.objects.filter(kind="sequence_created", sequence=sequence).exists()


def test_settings_may_be_left_out(as_alice: Api) -> None:
    response = as_alice.post("/sequences", {"name": "Bare", "steps": SPEC["steps"]})
    assert response.status_code == 201, response.content
    assert response.json()["settings"]["send_window"] == ["08:00", "18:00"]


def with_(**changes: Any) -> dict[str, Any]:
    return {**SPEC, **changes}


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        (with_(name=""), "name"),
        (with_(steps=[]), "steps"),
        (with_(steps=[{"type": "fax"}]), "type"),
        (with_(steps=[{"type": "automated_email", "body": "no subject"}]), "subject"),
        (with_(steps=[{"type": "call", "delay": -1}]), "delay"),
        (with_(steps=[{"type": "call", "colour": "red"}]), "colour"),
        (with_(settings={"send_window": ["18:00", "08:00"]}), "send_window"),
        (with_(settings={"send_window": ["8 am", "5 pm"]}), "send_window"),
        (with_(settings={"send_days": ["caturday"]}), "send_days"),
        (with_(settings={"holidays": True}), "holidays"),
        (with_(steps=[{"type": "call", "title": "{{ contact.first_name"}]), "title"),
        (with_(owner=1), "owner"),
    ],
)
def test_a_bad_description_is_invalid_and_creates_nothing(
    as_alice: Api, body: dict[str, Any], mentions: str
) -> None:
    before = snapshot()
    message = error_of(as_alice.post("/sequences", body), 400, "invalid")
    assert mentions in message
    assert snapshot() == before
