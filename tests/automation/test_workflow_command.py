"""``cadency workflow``: list, show, create, enable, disable, runs."""

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cadency.accounts.models import Role, User
from cadency.automation.models import Workflow
from cadency.automation.services.workflows import create_workflow
from cadency.contacts.editing import set_contact_field
from cadency.ledger.models import Event
from cadency.sequences.models import Sequence
from tests.automation.support import run_automation
from tests.cli.conftest import Fails, Output, Run
from tests.factories import make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def run() -> Run:
    """As tests/cli's: what the command printed on stdout and stderr."""

    def runner(*args: str) -> Output:
        out, err = io.StringIO(), io.StringIO()
        call_command(*args, stdout=out, stderr=err)
        return Output(out.getvalue(), err.getvalue())

    return runner


@pytest.fixture
def fails() -> Fails:
    """As tests/cli's: the command must exit 1 with a CommandError matching ``match``."""

    def runner(*args: str, match: str) -> Output:
        out, err = io.StringIO(), io.StringIO()
        with pytest.raises(CommandError, match=match) as raised:
            call_command(*args, stdout=out, stderr=err)
        assert raised.value.returncode == 1
        return Output(out.getvalue(), err.getvalue())

    return runner


@pytest.fixture
def ada() -> User:
    user = make_user("ada", first_name="Ada", last_name="Lovelace")
    make_mailbox(user)
    return user


@pytest.fixture
def intro(ada: User) -> Sequence:
    return make_sequence(ada, name="Intro")


def spec(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Customers get a call",
        "trigger_type": "contact_property_changed",
        "trigger_filters": {"field": "lifecycle_stage", "value": "customer"},
        "actions": [{"type": "create_task", "title": "Welcome call", "kind": "call"}],
        **changes,
    }


def spec_file(tmp_path: Path, **changes: Any) -> str:
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(spec(**changes)), encoding="utf-8")
    return str(path)


def existing(owner: User, **changes: Any) -> Workflow:
    return create_workflow(owner=owner, conditions=[], **spec(**changes))


def test_it_creates_a_workflow_from_a_json_file(
    run: Run, ada: User, intro: Sequence, tmp_path: Path
) -> None:
    actions = [
        {"type": "enroll", "sequence": intro.pk, "as": "workflow_owner"},
        {"type": "unenroll"},
    ]
    result = run(
        "workflow", "create", "--file", spec_file(tmp_path, actions=actions), "--as", "ada"
    )
    workflow = Workflow.objects.get()
    assert f"Created workflow {workflow.pk} «Customers get a call», owned by ada" in result.out
    assert "it is off" in result.out
    assert workflow.actions[1] == {"type": "unenroll", "sequence": None}
    data = run("workflow", "show", str(workflow.pk), "--json").json
    assert data["description"]["actions"] == [
        "Enroll in «Intro» as the workflow's owner",
        "Unenroll from all sequences",
    ]


def test_a_spec_the_rules_refuse_creates_nothing(fails: Fails, ada: User, tmp_path: Path) -> None:
    before = Event.objects.count()
    path = spec_file(tmp_path, actions=[{"type": "enroll", "sequence": 999}])
    fails(
        "workflow",
        "create",
        "--file",
        path,
        "--as",
        "ada",
        match=r"action 1 \(enroll\): no sequence 999 .*; nothing was created",
    )
    extra = spec_file(tmp_path, enabled=True)
    fails("workflow", "create", "--file", extra, "--as", "ada", match="unknown key 'enabled'")
    missing = str(tmp_path / "nope.json")
    fails("workflow", "create", "--file", missing, "--as", "ada", match="no such file")
    assert not Workflow.objects.exists()
    assert Event.objects.count() == before


def test_it_lists_and_shows_workflows(run: Run, ada: User) -> None:
    workflow = existing(ada)
    listed = run("workflow", "list").out
    assert "Customers get a call" in listed
    assert "Contact property changed: lifecycle_stage becomes “customer”" in listed
    assert "never" in listed
    shown = run("workflow", "show", str(workflow.pk)).out
    assert "(off)" in shown
    assert "1. Create a call task “Welcome call” for the workflow's owner, due today" in shown
    assert run("workflow", "list", "--json").json[0]["id"] == workflow.pk


def test_enable_and_disable_write_ledger_events(run: Run, ada: User) -> None:
    workflow = existing(ada)
    assert (
        "Turned «Customers get a call» on."
        in run("workflow", "enable", str(workflow.pk), "--as", "ada").out
    )
    assert "already on" in run("workflow", "enable", str(workflow.pk), "--as", "ada").out
    run("workflow", "disable", str(workflow.pk), "--as", "ada")
    kinds = list(Event.objects.filter(kind__startswith="workflow_").values_list("kind", flat=True))
    assert kinds == ["workflow_created", "workflow_enabled", "workflow_disabled"]


def test_a_rep_cannot_switch_another_reps_workflow(fails: Fails, run: Run, ada: User) -> None:
    workflow = existing(ada)
    make_user("bea")
    fails("workflow", "enable", str(workflow.pk), "--as", "bea", match="may only change their own")
    workflow.refresh_from_db()
    assert workflow.enabled is False
    make_user("max", role=Role.MANAGER)
    run("workflow", "enable", str(workflow.pk), "--as", "max")
    workflow.refresh_from_db()
    assert workflow.enabled is True
    fails("workflow", "enable", "999", "--as", "max", match="there is no workflow with id 999")


def test_it_lists_a_workflows_runs(run: Run, ada: User) -> None:
    workflow = existing(ada)
    workflow.enabled = True
    workflow.save()
    assert "has not run yet" in run("workflow", "runs", str(workflow.pk)).out
    jane = make_contact("jane@acme.test")
    set_contact_field(contact=jane, field="lifecycle_stage", value="customer", actor=None)
    run_automation()
    table = run("workflow", "runs", str(workflow.pk)).out
    assert "jane@acme.test" in table and "succeeded" in table and "create_task: created" in table
    (data,) = run("workflow", "runs", str(workflow.pk), "--json").json
    assert data["event"]["kind"] == "contact_updated"
