"""The workflow pages: the list, the builder (new and edit), a workflow's page with its
runs and webhook deliveries, the On/Off button and the secret."""

import re
from typing import Any

import pytest
from django.test import Client

from cadency.accounts.models import Role, User
from cadency.automation.models import TriggerType, Workflow
from cadency.automation.services.workflows import create_workflow
from cadency.contacts.editing import set_contact_field
from cadency.contacts.models import Contact
from cadency.ledger.models import Event
from cadency.sequences.models import Sequence
from tests.automation.support import run_automation
from tests.factories import make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice() -> User:
    user = make_user("alice", first_name="Alice", last_name="Archer")
    make_mailbox(user)
    return user


@pytest.fixture
def bob() -> User:
    return make_user("bob", first_name="Bob", last_name="Baker")


@pytest.fixture
def intro(alice: User) -> Sequence:
    return make_sequence(alice, name="Intro")


@pytest.fixture
def jane(alice: User) -> Contact:
    return make_contact("jane@acme.test", first_name="Jane", last_name="Doe", owner=alice)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def customers_workflow(owner: User, *, enabled: bool = True, **changes: Any) -> Workflow:
    spec: dict[str, Any] = {
        "name": "Customers leave sequences",
        "trigger_type": TriggerType.CONTACT_PROPERTY_CHANGED,
        "trigger_filters": {"field": "lifecycle_stage", "value": "customer"},
        "conditions": [],
        "actions": [{"type": "unenroll", "sequence": None}],
    }
    return create_workflow(owner=owner, enabled=enabled, **(spec | changes))


def builder_post(**fields: Any) -> dict[str, Any]:
    """A builder submission: a name, a trigger and the given rows."""
    return {
        "name": "Welcome customers",
        "trigger_type": "contact_property_changed",
        "shown_trigger_type": "contact_property_changed",
        "filter-field": "lifecycle_stage",
        "filter-value": "customer",
        "op": "save",
        **fields,
    }


def action(index: int, action_type: str, **values: Any) -> dict[str, Any]:
    posted = {f"actions-{index}-type": action_type, f"actions-{index}-shown_type": action_type}
    return posted | {f"actions-{index}-{name}": value for name, value in values.items()}


def workflow_state() -> tuple[Any, ...]:
    return (
        list(Workflow.objects.order_by("pk").values()),
        Event.objects.count(),
    )


def row_of(page: str, row_id: str) -> str:
    """The HTML of the ``<li id=row_id>`` row of the builder."""
    found = re.search(rf'<li[^>]*id="{row_id}".*?</li>', page, re.DOTALL)
    assert found, f"no row {row_id}"
    return found.group(0)


def test_the_list_shows_each_workflow_with_its_trigger_owner_state_and_runs(
    alice: User, bob: User
) -> None:
    customers_workflow(alice)
    customers_workflow(bob, enabled=False, name="Bob's flow")
    page = signed_in(bob).get("/workflows/").content.decode()
    assert "2 workflows" in page
    assert "Contact property changed: lifecycle_stage becomes “customer”" in page
    assert '<span class="badge active">On</span>' in page
    assert "Alice Archer" in page and "never" in page
    # Bob may switch only his own workflow on.
    assert page.count("/switch/") == 1
    assert "Turn on «Bob&#x27;s flow»" in page


def test_a_workflow_with_every_action_type_is_built_through_the_page(
    alice: User, bob: User, intro: Sequence
) -> None:
    mailbox = alice.mailboxes.get()
    data = builder_post(
        **{
            "conditions-0-field": "company.domain",
            "conditions-0-op": "is_any_of",
            "conditions-0-value": "acme.test, globex.test",
            "conditions-1-field": "",  # a row left empty is ignored
            "conditions-1-op": "is",
            "conditions-1-value": "",
        },
        **action(0, "enroll", sequence=intro.pk, enroll_as=alice.pk, mailbox=mailbox.pk),
        **action(1, "unenroll", sequence="all"),
        **action(2, "set_property", field="properties.plan", value="gold"),
        **action(3, "create_task", title="Welcome call", kind="call", assignee=bob.pk)
        | {"actions-3-due_in_days": "2", "actions-3-notes": "Say hello"},
        **action(4, "webhook", url="https://hooks.example.com/cadency"),
    )
    client = signed_in(alice)
    response = client.post("/workflows/new/", data)
    workflow = Workflow.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/workflows/{workflow.pk}/"
    assert (workflow.owner, workflow.enabled, workflow.name) == (alice, False, "Welcome customers")
    assert workflow.trigger_filters == {"field": "lifecycle_stage", "value": "customer"}
    assert workflow.conditions == [
        {"field": "company.domain", "op": "is_any_of", "value": ["acme.test", "globex.test"]}
    ]
    assert workflow.actions == [
        {"type": "enroll", "sequence": intro.pk, "as": alice.pk, "mailbox": mailbox.pk},
        {"type": "unenroll", "sequence": None},
        {"type": "set_property", "field": "properties.plan", "value": "gold"},
        {
            "type": "create_task",
            "title": "Welcome call",
            "kind": "call",
            "assignee": bob.pk,
            "due_in_days": 2,
            "notes": "Say hello",
        },
        {"type": "webhook", "url": "https://hooks.example.com/cadency"},
    ]
    assert Event.objects.filter(kind="workflow_created", data__workflow=workflow.pk).exists()

    page = client.get(response["Location"]).content.decode()
    for words in (
        "Created the workflow «Welcome customers». It is off",
        "company.domain is “acme.test” or “globex.test”",
        "Enroll in «Intro» as Alice Archer, sending from alice@example.test",
        "Unenroll from all sequences",
        "Set properties.plan to “gold”",
        "Create a call task “Welcome call” for Bob Baker, due in 2 days",
        "Send a signed webhook to https://hooks.example.com/cadency",
    ):
        assert words in page


def test_the_edit_page_shows_the_saved_workflow_and_saving_replaces_it(
    alice: User, intro: Sequence
) -> None:
    workflow = customers_workflow(alice)
    client = signed_in(alice)
    page = client.get(f"/workflows/{workflow.pk}/edit/").content.decode()
    assert 'value="Customers leave sequences"' in page
    assert '<option value="all" selected>All sequences</option>' in page
    data = builder_post(
        name="Renamed", **action(0, "enroll", sequence=intro.pk, enroll_as="workflow_owner")
    )
    response = client.post(f"/workflows/{workflow.pk}/edit/", data)
    assert response.status_code == 302
    workflow.refresh_from_db()
    assert workflow.name == "Renamed"
    assert workflow.enabled is True  # saving does not switch it
    assert workflow.actions == [
        {"type": "enroll", "sequence": intro.pk, "as": "workflow_owner", "mailbox": None}
    ]
    assert Event.objects.filter(kind="workflow_changed", data__workflow=workflow.pk).exists()


def test_a_rep_cannot_make_a_workflow_enroll_as_someone_else(alice: User, intro: Sequence) -> None:
    before = workflow_state()
    data = builder_post(**action(0, "enroll", sequence=intro.pk, enroll_as="contact_owner"))
    response = signed_in(alice).post("/workflows/new/", data)
    assert response.status_code == 400
    assert "only a manager or an admin may enroll as the contact" in response.content.decode()
    assert workflow_state() == before


def test_an_action_the_service_refuses_is_shown_on_its_row_and_nothing_is_written(
    alice: User, intro: Sequence
) -> None:
    before = workflow_state()
    data = builder_post(
        **action(0, "unenroll", sequence="all"),
        **action(1, "enroll", sequence="999999", enroll_as="contact_owner"),
    )
    response = signed_in(alice).post("/workflows/new/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Not saved: action 2 (enroll): no sequence 999999 (or it was deleted)" in page
    row = row_of(page, "action-2")
    assert 'class="has-error"' in row
    assert "Action 2 (enroll): no sequence 999999" in row
    assert "has-error" not in row_of(page, "action-1")
    # What was typed comes back.
    assert 'value="Welcome customers"' in page
    assert '<option value="999999" selected>unknown: 999999</option>' in page
    assert workflow_state() == before


def test_a_condition_the_service_refuses_is_shown_on_its_row(alice: User) -> None:
    before = workflow_state()
    data = builder_post(
        **{
            "conditions-0-field": "lifecycle_stage",
            "conditions-0-op": "is",
            "conditions-0-value": "lead",
            "conditions-1-field": "shoe_size",
            "conditions-1-op": "is",
            "conditions-1-value": "42",
        },
        **action(0, "unenroll", sequence="all"),
    )
    response = signed_in(alice).post("/workflows/new/", data)
    assert response.status_code == 400
    page = response.content.decode()
    conditions = page[page.index('id="conditions"') : page.index('id="actions"')]
    second = conditions[conditions.index("Condition 2") :]
    assert "Unknown field &#x27;shoe_size&#x27;" in second
    assert "Unknown field" not in conditions[: conditions.index("Condition 2")]
    assert workflow_state() == before


def test_a_missing_name_and_a_filter_the_trigger_refuses_are_shown(alice: User) -> None:
    response = signed_in(alice).post(
        "/workflows/new/", builder_post(name="  ", **action(0, "unenroll", sequence="all"))
    )
    assert response.status_code == 400
    assert '<p class="field-error" id="name-error">Give the workflow a name' in (
        response.content.decode()
    )
    response = signed_in(alice).post(
        "/workflows/new/",
        builder_post(
            **{"trigger_type": "list_joined", "shown_trigger_type": "list_joined"},
            **{"filter-list": "424242"},
            **action(0, "unenroll", sequence="all"),
        ),
    )
    assert response.status_code == 400
    assert "Filter list: no list 424242" in response.content.decode()
    assert not Workflow.objects.exists()


def test_row_buttons_add_move_and_remove_rows_without_saving(alice: User, intro: Sequence) -> None:
    before = workflow_state()
    client = signed_in(alice)
    rows = {
        **action(0, "webhook", url="https://hooks.example.com/a"),
        **action(1, "set_property", field="lifecycle_stage", value="customer"),
    }
    added = client.post("/workflows/new/", builder_post(op="add_action", **rows))
    page = added.content.decode()
    assert added.status_code == 200
    assert "Added action 3." in page
    assert 'name="actions-2-type"' in page
    assert 'id="id_actions-2-type" autofocus' in page or 'autofocus id="id_actions-2-type"' in page

    moved = client.post("/workflows/new/", builder_post(op="up:1", **rows)).content.decode()
    assert "Moved action 2 to position 1." in moved
    assert moved.index('value="lifecycle_stage"') < moved.index("https://hooks.example.com/a")
    assert 'name="actions-0-field"' in moved and 'name="actions-1-url"' in moved

    removed = client.post("/workflows/new/", builder_post(op="remove_action:0", **rows))
    page = removed.content.decode()
    assert "Removed action 1." in page
    assert "https://hooks.example.com/a" not in page
    assert 'name="actions-0-field"' in page

    with_condition = client.post("/workflows/new/", builder_post(op="add_condition", **rows))
    assert 'name="conditions-0-field"' in with_condition.content.decode()
    assert workflow_state() == before


def test_each_trigger_type_shows_only_the_filters_it_takes(alice: User) -> None:
    client = signed_in(alice)
    page = client.post(
        "/workflows/new/", builder_post(op="refresh", trigger_type="list_joined")
    ).content.decode()
    assert 'name="filter-list"' in page
    assert 'name="filter-field"' not in page
    page = client.post(
        "/workflows/new/", builder_post(op="refresh", trigger_type="enrollment_ended")
    ).content.decode()
    assert 'name="filter-sequence"' in page and 'name="filter-reason"' in page
    page = client.post(
        "/workflows/new/", builder_post(op="refresh", trigger_type="meeting_booked")
    ).content.decode()
    assert "This trigger takes no filters" in page


def test_an_action_type_changed_without_javascript_shows_its_inputs_before_saving(
    alice: User,
) -> None:
    before = workflow_state()
    data = builder_post(**action(0, "unenroll", sequence="all"))
    data["actions-0-type"] = "webhook"  # changed in the select; the URL input is not shown
    response = signed_in(alice).post("/workflows/new/", data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "fill them in, then save" in page
    assert 'name="actions-0-url"' in page
    assert workflow_state() == before


def test_turning_a_workflow_on_and_off_writes_a_ledger_event(alice: User) -> None:
    workflow = customers_workflow(alice, enabled=False)
    client = signed_in(alice)
    response = client.post(
        f"/workflows/{workflow.pk}/switch/", {"enabled": "on", "next": "/workflows/"}
    )
    assert response.status_code == 302 and response["Location"] == "/workflows/"
    workflow.refresh_from_db()
    assert workflow.enabled is True
    assert Event.objects.filter(kind="workflow_enabled", actor=alice).count() == 1
    again = client.post(f"/workflows/{workflow.pk}/switch/", {"enabled": "on"}, follow=True)
    assert "was already on" in again.content.decode()
    assert Event.objects.filter(kind="workflow_enabled").count() == 1
    client.post(f"/workflows/{workflow.pk}/switch/", {"enabled": "off"})
    workflow.refresh_from_db()
    assert workflow.enabled is False
    event = Event.objects.get(kind="workflow_disabled")
    assert event.sentence == "Alice Archer turned the workflow «Customers leave sequences» off."


def test_a_switch_without_a_clear_state_is_refused(alice: User) -> None:
    workflow = customers_workflow(alice, enabled=False)
    response = signed_in(alice).post(f"/workflows/{workflow.pk}/switch/", {"enabled": "yes"})
    assert response.status_code == 400
    workflow.refresh_from_db()
    assert workflow.enabled is False


def test_a_rep_cannot_change_another_reps_workflow(alice: User, bob: User) -> None:
    workflow = customers_workflow(alice, enabled=False)
    secret = workflow.webhook_secret
    before = workflow_state()
    client = signed_in(bob)
    page = client.get(f"/workflows/{workflow.pk}/").content.decode()
    assert secret not in page
    assert "only its owner, a manager or an admin may change it" in page
    assert f"/workflows/{workflow.pk}/edit/" not in page
    assert client.get(f"/workflows/{workflow.pk}/edit/").status_code == 403
    edit = builder_post(**action(0, "unenroll", sequence="all"))
    assert client.post(f"/workflows/{workflow.pk}/edit/", edit).status_code == 403
    on = {"enabled": "on"}
    assert client.post(f"/workflows/{workflow.pk}/switch/", on).status_code == 403
    assert client.post(f"/workflows/{workflow.pk}/secret/").status_code == 403
    assert workflow_state() == before
    assert Workflow.objects.get().webhook_secret == secret


def test_a_manager_may_change_a_reps_workflow(alice: User) -> None:
    workflow = customers_workflow(alice, enabled=False)
    maya = make_user("maya", role=Role.MANAGER)
    client = signed_in(maya)
    assert workflow.webhook_secret in client.get(f"/workflows/{workflow.pk}/").content.decode()
    assert client.post(f"/workflows/{workflow.pk}/switch/", {"enabled": "on"}).status_code == 302
    assert Workflow.objects.get().enabled is True


def test_replacing_the_secret_changes_it_and_writes_an_event(alice: User) -> None:
    workflow = customers_workflow(alice)
    old = workflow.webhook_secret
    response = signed_in(alice).post(f"/workflows/{workflow.pk}/secret/", follow=True)
    workflow.refresh_from_db()
    assert workflow.webhook_secret != old
    assert workflow.webhook_secret in response.content.decode()
    assert Event.objects.filter(kind="workflow_secret_rotated").count() == 1


def test_an_unknown_workflow_is_not_found(alice: User) -> None:
    client = signed_in(alice)
    assert client.get("/workflows/999/").status_code == 404
    assert client.get("/workflows/999/edit/").status_code == 404
    assert client.post("/workflows/999/switch/", {"enabled": "on"}).status_code == 404


def test_a_real_run_is_listed_with_what_each_action_did(
    alice: User, intro: Sequence, jane: Contact
) -> None:
    workflow = customers_workflow(
        alice,
        actions=[
            {"type": "create_task", "title": "Welcome call", "assignee": "contact_owner"},
            {"type": "enroll", "sequence": intro.pk, "as": "workflow_owner"},
        ],
    )
    set_contact_field(contact=jane, field="lifecycle_stage", value="customer", actor=None)
    run_automation()
    page = signed_in(alice).get(f"/workflows/{workflow.pk}/").content.decode()
    assert "Runs (1)" in page
    assert f'href="/contacts/{jane.pk}/">Jane Doe</a>' in page
    assert '<span class="badge active">Succeeded</span>' in page
    assert "Create a task: <strong>created</strong>" in page
    assert "Enroll in a sequence: <strong>enrolled</strong>" in page
    listed = signed_in(alice).get("/workflows/").content.decode()
    assert re.search(r"<td>1</td>\s*<td><time", listed)


def test_webhook_deliveries_are_listed_with_their_attempts(
    alice: User, jane: Contact, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "cadency.automation.services.webhooks.post",
        lambda url, body, headers: (503, "HTTP 503 Service Unavailable"),
    )
    workflow = customers_workflow(
        alice, actions=[{"type": "webhook", "url": "https://hooks.example.com/cadency"}]
    )
    set_contact_field(contact=jane, field="lifecycle_stage", value="customer", actor=None)
    run_automation()
    page = signed_in(alice).get(f"/workflows/{workflow.pk}/").content.decode()
    assert "Webhook deliveries (1)" in page
    assert "https://hooks.example.com/cadency" in page
    assert "Waiting to be sent or retried" in page
    assert "HTTP 503: HTTP 503 Service Unavailable" in page
    assert "Send a webhook: <strong>queued</strong>" in page


def test_a_new_action_type_starts_with_its_defaults(alice: User) -> None:
    data = builder_post(
        op="refresh",
        **action(0, "enroll", enroll_as="contact_owner", kind="", assignee="", due_in_days=""),
    )
    data["actions-0-type"] = "create_task"  # the select changed; its inputs were not shown
    page = signed_in(alice).post("/workflows/new/", data).content.decode()
    assert '<option value="task" selected>General task</option>' in page
    assert '<option value="contact_owner" selected>' in page
    assert 'name="actions-0-due_in_days" value="0"' in page
    assert "unknown:" not in page
