"""/api/v1/workflows: list, create, read, replace, enable/disable, runs and deliveries."""

from typing import Any

import pytest
from pytest_django.fixtures import SettingsWrapper

from cadency.accounts.models import Role, User
from cadency.automation.models import Workflow
from cadency.contacts.editing import set_contact_field
from cadency.contacts.models import Contact
from cadency.ledger.models import Event
from cadency.sequences.models import Sequence
from tests.api.support import Api, api_for, error_of
from tests.automation.support import run_automation
from tests.factories import make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings: SettingsWrapper) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice() -> User:
    user = make_user("alice", first_name="Alice", last_name="Archer")
    make_mailbox(user)
    return user


@pytest.fixture
def bob() -> User:
    return make_user("bob", first_name="Bob", last_name="Baker")


@pytest.fixture
def as_alice(alice: User) -> Api:
    return api_for(alice)


@pytest.fixture
def as_bob(bob: User) -> Api:
    return api_for(bob)


@pytest.fixture
def intro(alice: User) -> Sequence:
    return make_sequence(alice, name="Intro")


@pytest.fixture
def jane(alice: User) -> Contact:
    return make_contact("jane@acme.test", first_name="Jane", last_name="Doe", owner=alice)


def spec(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Customers leave sequences",
        "trigger_type": "contact_property_changed",
        "trigger_filters": {"field": "lifecycle_stage", "value": "customer"},
        "conditions": [{"field": "email", "op": "contains", "value": "acme.test"}],
        "actions": [{"type": "unenroll"}],
        **changes,
    }


def created(api: Api, **changes: Any) -> dict[str, Any]:
    response = api.post("/workflows", spec(**changes))
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def state() -> tuple[Any, ...]:
    return list(Workflow.objects.order_by("pk").values()), Event.objects.count()


def test_a_workflow_with_every_action_type_is_created(
    as_alice: Api, alice: User, bob: User, intro: Sequence
) -> None:
    mailbox = alice.mailboxes.get()
    actions = [
        {"type": "enroll", "sequence": intro.pk, "as": alice.pk, "mailbox": mailbox.pk},
        {"type": "unenroll", "sequence": intro.pk},
        {"type": "set_property", "field": "properties.plan", "value": "gold"},
        {"type": "create_task", "title": "Welcome call", "kind": "call", "assignee": bob.pk},
        {"type": "webhook", "url": "https://hooks.example.com/cadency"},
    ]
    body = created(as_alice, actions=actions, enabled=True)
    workflow = Workflow.objects.get()
    assert body["id"] == workflow.pk
    assert body["enabled"] is True and body["owner"]["username"] == "alice"
    assert body["actions"] == workflow.actions
    assert workflow.actions[0] == actions[0]
    assert workflow.actions[3]["due_in_days"] == 0
    assert body["description"] == {
        "trigger": "Contact property changed: lifecycle_stage becomes “customer”",
        "conditions": "email contains “acme.test”",
        "actions": [
            "Enroll in «Intro» as Alice Archer, sending from alice@example.test",
            "Unenroll from «Intro»",
            "Set properties.plan to “gold”",
            "Create a call task “Welcome call” for Bob Baker, due today",
            "Send a signed webhook to https://hooks.example.com/cadency",
        ],
    }
    assert body["webhook_secret"] == workflow.webhook_secret
    assert (body["runs"], body["last_run_at"]) == (0, None)
    assert Event.objects.filter(kind="workflow_created").count() == 1


def test_a_spec_the_rules_refuse_answers_400_with_the_reason_and_writes_nothing(
    as_alice: Api, intro: Sequence
) -> None:
    before = state()
    actions = [{"type": "unenroll"}, {"type": "enroll", "sequence": 999999}]
    message = error_of(as_alice.post("/workflows", spec(actions=actions)), 400, "invalid")
    assert (
        message == "action 2 (enroll): no sequence 999999 (or it was deleted); nothing was created"
    )
    wrong_filter = spec(trigger_type="meeting_booked")
    message = error_of(as_alice.post("/workflows", wrong_filter), 400, "invalid")
    assert "meeting_booked takes no filter 'field'" in message
    bad_condition = spec(conditions=[{"field": "shoe_size", "op": "is", "value": "42"}])
    assert "unknown field 'shoe_size'" in error_of(
        as_alice.post("/workflows", bad_condition), 400, "invalid"
    )
    unknown_type = spec(actions=[{"type": "teleport"}])
    error_of(as_alice.post("/workflows", unknown_type), 400, "invalid")
    error_of(as_alice.post("/workflows", spec(actions=[])), 400, "invalid")
    error_of(as_alice.post("/workflows", spec(colour="blue")), 400, "invalid")
    assert state() == before


def test_workflows_are_listed_and_filtered(as_bob: Api, alice: User, bob: User) -> None:
    created(api_for(alice), enabled=True)
    created(as_bob, name="Bob's", trigger_type="contact_created", trigger_filters={})
    page = as_bob.get("/workflows").json()
    assert [w["name"] for w in page["items"]] == ["Bob's", "Customers leave sequences"]
    assert page["count"] == 2
    assert "webhook_secret" not in page["items"][0]
    assert as_bob.get("/workflows", enabled=True).json()["count"] == 1
    assert as_bob.get("/workflows", owner=bob.pk).json()["items"][0]["name"] == "Bob's"
    assert as_bob.get("/workflows", trigger_type="contact_created").json()["count"] == 1
    error_of(as_bob.get("/workflows", owner=999999), 404, "not_found")


def test_another_reps_workflow_is_readable_but_not_changeable(as_bob: Api, alice: User) -> None:
    workflow_id = created(api_for(alice))["id"]
    before = state()
    body = as_bob.get(f"/workflows/{workflow_id}").json()
    assert body["webhook_secret"] is None
    assert body["name"] == "Customers leave sequences"
    for response in (
        as_bob.client.put(
            f"/api/v1/workflows/{workflow_id}", spec(), content_type="application/json"
        ),
        as_bob.post(f"/workflows/{workflow_id}/enable"),
        as_bob.post(f"/workflows/{workflow_id}/disable"),
    ):
        assert "belongs to another user" in error_of(response, 403, "forbidden")
    assert state() == before


def test_a_manager_may_change_a_reps_workflow(alice: User) -> None:
    workflow_id = created(api_for(alice))["id"]
    maya = make_user("maya", role=Role.MANAGER)
    as_maya = api_for(maya)
    assert as_maya.get(f"/workflows/{workflow_id}").json()["webhook_secret"]
    assert as_maya.post(f"/workflows/{workflow_id}/enable").json()["changed"] is True


def test_replacing_a_workflow_keeps_its_state_and_refuses_bad_specs(
    as_alice: Api, intro: Sequence
) -> None:
    workflow_id = created(as_alice, enabled=True)["id"]
    path = f"/api/v1/workflows/{workflow_id}"
    new = spec(name="Renamed", actions=[{"type": "enroll", "sequence": intro.pk}])
    body = as_alice.client.put(path, new, content_type="application/json").json()
    assert body["name"] == "Renamed" and body["enabled"] is True
    assert body["actions"] == [
        {"type": "enroll", "sequence": intro.pk, "as": "workflow_owner", "mailbox": None}
    ]
    before = state()
    bad = spec(actions=[{"type": "webhook", "url": "ftp://example.com"}])
    response = as_alice.client.put(path, bad, content_type="application/json")
    message = error_of(response, 400, "invalid")
    assert message.startswith("action 1 (webhook): 'ftp://example.com' is not an http(s) URL")
    assert message.endswith("nothing was changed")
    assert state() == before
    missing = as_alice.client.put(
        "/api/v1/workflows/999999", spec(), content_type="application/json"
    )
    error_of(missing, 404, "not_found")


def test_enable_and_disable_write_a_ledger_event_once(as_alice: Api) -> None:
    workflow_id = created(as_alice)["id"]
    first = as_alice.post(f"/workflows/{workflow_id}/enable").json()
    assert first["changed"] is True and first["workflow"]["enabled"] is True
    assert as_alice.post(f"/workflows/{workflow_id}/enable").json()["changed"] is False
    assert Event.objects.filter(kind="workflow_enabled").count() == 1
    off = as_alice.post(f"/workflows/{workflow_id}/disable").json()
    assert off["changed"] is True and off["workflow"]["enabled"] is False
    assert Event.objects.filter(kind="workflow_disabled").count() == 1
    error_of(as_alice.post("/workflows/999999/enable"), 404, "not_found")


def test_runs_and_their_deliveries_are_listed_after_a_real_run(
    as_alice: Api, jane: Contact, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "cadency.automation.services.webhooks.post", lambda url, body, headers: (500, "HTTP 500")
    )
    actions = [
        {"type": "set_property", "field": "properties.welcomed", "value": "yes"},
        {"type": "webhook", "url": "https://hooks.example.com/cadency"},
    ]
    workflow_id = created(as_alice, actions=actions, enabled=True)["id"]
    set_contact_field(contact=jane, field="lifecycle_stage", value="customer", actor=None)
    run_automation()
    runs = as_alice.get(f"/workflows/{workflow_id}/runs").json()
    assert runs["count"] == 1
    run = runs["items"][0]
    assert run["status"] == "succeeded"
    assert run["contact"] == {"id": jane.pk, "email": "jane@acme.test", "name": "Jane Doe"}
    assert run["event"]["kind"] == "contact_updated"
    assert [(s["action"], s["outcome"]) for s in run["steps"]] == [
        ("set_property", "set"),
        ("webhook", "queued"),
    ]
    assert run["deliveries"] == 1
    assert as_alice.get(f"/workflows/{workflow_id}").json()["runs"] == 1

    deliveries = as_alice.get(f"/workflows/{workflow_id}/runs/{run['id']}/deliveries").json()
    (delivery,) = deliveries["items"]
    assert delivery["url"] == "https://hooks.example.com/cadency"
    assert delivery["status"] == "pending"
    assert [(a["status_code"], a["error"]) for a in delivery["attempts"]] == [(500, "HTTP 500")]
    assert delivery["next_attempt_at"] is not None
    assert delivery["payload"]["contact"]["email"] == "jane@acme.test"

    other = created(as_alice, name="Other")["id"]
    error_of(as_alice.get(f"/workflows/{other}/runs/{run['id']}/deliveries"), 404, "not_found")
    error_of(as_alice.get("/workflows/999999/runs"), 404, "not_found")


def test_the_api_needs_a_token() -> None:
    error_of(api_for().get("/workflows"), 401, "unauthorized")
