"""Every API operation that names an object by id, generated from the OpenAPI
document, called by one rep (Bob) on another rep's (Alice's) object.

SPEC §1: reps see everything and act on their own. So each operation is classified
below: a change to Alice's object is refused with 403 and changes nothing; a read
answers 200, except where the object is private to its owner (mailboxes and the
mail in them); a few changes are open to everyone by design, each with its reason.
A new operation with an id fails ``test_every_operation_with_an_id_is_classified``
until it is added here, consciously.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from django.test import Client

from cadency.accounts.tokens import create_token
from cadency.api.main import api
from tests.security.world import World, changes, snapshot

API = "/api/v1"
Expect = Literal["refused", "read", "private", "open"]


@dataclass(frozen=True)
class Rule:
    expect: Expect
    reason: str = ""
    body: dict[str, Any] | None = None
    # Path parameters that name another of Alice's objects than the default one.
    ids: dict[str, Callable[[World], object]] = field(default_factory=dict)


READ = Rule("read", "reps see everything (SPEC §1)")
PRIVATE = Rule("private", "a mailbox and the mail in it are its owner's (docs/api.md)")
REFUSED = Rule("refused")
STATIC_LIST: dict[str, Callable[[World], object]] = {
    "list_id": lambda w: w.static_list.pk,
    "contact_id": lambda w: w.other_contact.pk,
}

# Every operation with an id in its path. "refused": 403, nothing changed.
OPERATIONS: dict[str, Rule] = {
    # contacts: a contact is edited by its owner, managers and admins
    "get_contact": READ,
    "update_contact": Rule("refused", body={"first_name": "Mallory"}),
    "delete_contact_by_id": REFUSED,
    "list_emails": READ,
    "add_email": Rule(
        "open",
        "addresses are identity, not the owner's fields: anyone may add one "
        "(contacts/permissions.py guards the fields of the Edit page)",
        body={"email": "jane.work@acme.test"},
    ),
    "remove_email": Rule("open", "as add_email"),
    # companies have no owner
    "get_company": READ,
    "update_company_by_id": Rule(
        "open", "companies have no owner: anyone may edit one", body={"name": "Acme"}
    ),
    # sequences: their owner, managers and admins
    "get_sequence": READ,
    "delete_sequence_by_id": REFUSED,
    "list_steps": READ,
    "get_step": READ,
    "list_unenroll_triggers": READ,
    "add_unenroll_trigger": Rule(
        "refused",
        body={
            "kind": "property_value",
            "config": {"condition": {"field": "lifecycle_stage", "op": "is", "value": "lead"}},
        },
    ),
    "preview_unenroll_trigger": Rule(
        "refused",
        "changes nothing, but only who may add a trigger previews it",
        body={
            "kind": "property_value",
            "config": {"condition": {"field": "lifecycle_stage", "op": "is", "value": "lead"}},
        },
    ),
    "remove_unenroll_trigger": REFUSED,
    # enrollments: the user who enrolled, managers and admins
    "get_enrollment": READ,
    "unenroll_enrollment": REFUSED,
    "pause_enrollment": REFUSED,
    "resume_enrollment": REFUSED,
    "get_event": READ,
    # tasks: their assignee, managers and admins
    "get_task": READ,
    "complete_task_now": REFUSED,
    "skip_task": REFUSED,
    "get_mailbox": PRIVATE,
    "get_mailbox_health": PRIVATE,
    "get_message": PRIVATE,
    "relabel_message": Rule("refused", body={"label": "auto_reply"}),
    # users: a rep sets only their own absence; only managers and admins deactivate
    "get_user": READ,
    "deactivate_user_by_id": Rule("refused", body={}),
    "get_absence": READ,
    "set_absence": Rule("refused", body={"until": "2030-01-15"}),
    "end_user_absence": REFUSED,
    # lists: conditions and deletion are the owner's; a static list's members anyone's
    "get_contact_list": READ,
    "change_list_conditions": Rule(
        "refused",
        body={"conditions": [{"field": "properties.tier", "op": "is", "value": "silver"}]},
    ),
    "delete_contact_list": REFUSED,
    "list_members": READ,
    "add_member": Rule(
        "open",
        "anyone may add contacts to a static list (docs/api.md, Lists)",
        body={"contact": None},
        ids=STATIC_LIST,
    ),
    "remove_member": Rule(
        "open",
        "anyone may take contacts out of a static list (docs/api.md, Lists)",
        ids=STATIC_LIST,
    ),
    # workflows: their owner, managers and admins
    "get_workflow": READ,
    "replace_workflow": Rule(
        "refused",
        body={
            "name": "Taken over",
            "trigger_type": "contact_created",
            "actions": [{"type": "unenroll", "sequence": None}],
        },
    ),
    "enable_workflow": REFUSED,
    "disable_workflow": REFUSED,
    "list_workflow_runs": READ,
    "list_run_deliveries": READ,
}

# The object of Alice's that each path parameter names, by default.
IDS: dict[str, Callable[[World], object]] = {
    "contact_id": lambda w: w.contact.pk,
    "email": lambda w: w.alias,
    "company_id": lambda w: w.company.pk,
    "sequence_id": lambda w: w.sequence.pk,
    "position": lambda w: 1,
    "trigger_id": lambda w: w.trigger.pk,
    "enrollment_id": lambda w: w.enrollment.pk,
    "event_id": lambda w: w.event.pk,
    "task_id": lambda w: w.task.pk,
    "mailbox_id": lambda w: w.mailbox.pk,
    "message_id": lambda w: w.message.pk,
    "user_id": lambda w: w.alice.pk,
    "list_id": lambda w: w.dynamic_list.pk,
    "workflow_id": lambda w: w.workflow.pk,
    "run_id": lambda w: w.run.pk,
}


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    path_params: tuple[str, ...]


def operations_with_ids() -> list[Operation]:
    found = []
    for path, methods in api.get_openapi_schema()["paths"].items():
        for method, spec in methods.items():
            params = tuple(p["name"] for p in spec.get("parameters", []) if p["in"] == "path")
            if params:
                found.append(Operation(spec["operationId"], method, path, params))
    return found


OPERATIONS_WITH_IDS = operations_with_ids()


def test_every_operation_with_an_id_is_classified() -> None:
    seen = {operation.operation_id for operation in OPERATIONS_WITH_IDS}
    unclassified = seen - OPERATIONS.keys()
    assert not unclassified, (
        f"new API operations {sorted(unclassified)}: say in OPERATIONS whether a rep may "
        "call them on another rep's object"
    )
    assert not OPERATIONS.keys() - seen, "OPERATIONS names operations that no longer exist"
    for operation in OPERATIONS_WITH_IDS:
        rule = OPERATIONS[operation.operation_id]
        if operation.method != "get":
            assert rule.expect in {"refused", "open"}, f"{operation.operation_id} changes data"
        if rule.expect == "open":
            assert rule.reason, f"{operation.operation_id} is open to everyone: say why"


def api_client(user: Any) -> Client:
    token = create_token(user=user, name="script").secret
    return Client(headers={"Authorization": f"Bearer {token}"})


def call(client: Client, world: World, operation: Operation, rule: Rule) -> Any:
    ids = {**IDS, **rule.ids}
    path = operation.path.removeprefix(API)
    for name in operation.path_params:
        path = path.replace(f"{{{name}}}", str(ids[name](world)))
    body = dict(rule.body or {})
    if body.get("contact", "") is None:
        body["contact"] = world.contact.pk
    send = getattr(client, operation.method)
    if operation.method == "get":
        return send(f"{API}{path}")
    return send(f"{API}{path}", body, content_type="application/json")


@pytest.mark.parametrize(
    "operation", OPERATIONS_WITH_IDS, ids=[op.operation_id for op in OPERATIONS_WITH_IDS]
)
def test_a_rep_on_another_reps_object(world: World, operation: Operation) -> None:
    rule = OPERATIONS.get(operation.operation_id)
    if rule is None:
        pytest.fail(f"{operation.operation_id} is not classified in OPERATIONS")
    bob = api_client(world.bob)
    before = snapshot()
    response = call(bob, world, operation, rule)
    match rule.expect:
        case "refused" | "private":
            assert response.status_code == 403, (response.status_code, response.content)
            error = response.json()["error"]
            assert error["code"] == "forbidden" and error["message"]
            assert changes(before) == []
        case "read":
            assert response.status_code == 200, (response.status_code, response.content)
            assert changes(before) == []
        case "open":
            assert 200 <= response.status_code < 300, (response.status_code, response.content)


def test_a_manager_may_do_what_the_rep_was_refused(world: World) -> None:
    """The refusals above come from the rule, not from a malformed request."""
    client = api_client(world.manager)
    enrollment = world.enrollment.pk
    assert client.post(f"{API}/enrollments/{enrollment}/pause").status_code == 200
    patched = client.patch(
        f"{API}/contacts/{world.contact.pk}", {"first_name": "Jo"}, content_type="application/json"
    )
    assert patched.status_code == 200, patched.content


def test_bulk_unenroll_of_another_reps_enrollment_refuses_it_and_changes_nothing(
    world: World,
) -> None:
    bob = api_client(world.bob)
    before = snapshot()
    response = bob.post(
        f"{API}/enrollments/unenroll",
        {"ids": [world.enrollment.pk]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["refused_count"] == 1 and response.json()["ended"] == 0
    assert changes(before) == []


def test_upserting_another_reps_contact_by_address_is_refused(world: World) -> None:
    bob = api_client(world.bob)
    before = snapshot()
    response = bob.post(
        f"{API}/contacts",
        {"email": world.contact.email, "first_name": "Mallory"},
        content_type="application/json",
    )
    assert response.status_code == 403, response.content
    assert changes(before) == []


def test_enrolling_through_another_reps_mailbox_is_refused(world: World) -> None:
    bob = api_client(world.bob)
    before = snapshot()
    response = bob.post(
        f"{API}/enrollments",
        {
            "contact": world.other_contact.pk,
            "sequence": world.sequence.pk,
            "mailbox": world.mailbox.pk,
        },
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    assert "another user" in response.json()["error"]["message"]
    assert changes(before) == []
