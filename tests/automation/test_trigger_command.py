"""``cadency trigger list | preview | add | remove``."""

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cadency.automation.models import UnenrollTrigger
from cadency.automation.services.triggers import add_trigger
from cadency.sequences.services.lifecycle import delete_sequence
from tests.automation.trigger_scene import (
    CUSTOMER,
    Scene,
    assert_ended_by,
    scene,
    snapshot,
    states,
)

pytestmark = pytest.mark.django_db

CUSTOMER_CONFIG = json.dumps({"condition": CUSTOMER})


@pytest.fixture
def s() -> Scene:
    return scene()


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("trigger", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fails(*args: str, match: str) -> None:
    with pytest.raises(CommandError, match=match) as raised:
        run(*args)
    assert raised.value.returncode == 1


@pytest.fixture
def answer(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], list[str]]:
    def set_answer(text: str) -> list[str]:
        asked: list[str] = []

        def fake_input(prompt: str = "") -> str:
            asked.append(prompt)
            return text

        monkeypatch.setattr("builtins.input", fake_input)
        return asked

    return set_answer


def test_preview_says_how_many_it_would_end_and_writes_nothing(s: Scene) -> None:
    before = snapshot()
    seq = str(s.sequence.pk)
    out, _ = run("preview", seq, "--kind", "property_value", "--config", CUSTOMER_CONFIG)
    assert "the enrollment ends when lifecycle_stage is “customer”" in out
    assert "already true for 3 open enrollment(s) of «Intro»" in out
    for enrollment in s.customers:
        assert enrollment.email in out
    data = json.loads(
        run("preview", seq, "--kind", "property_value", "--config", CUSTOMER_CONFIG, "--json")[0]
    )
    assert data == {
        "kind": "property_value",
        "config": {"condition": CUSTOMER},
        "description": "lifecycle_stage is “customer”",
        "would_end": 3,
    }
    assert snapshot() == before


def test_add_asks_then_ends_the_matching_open_enrollments(
    s: Scene, answer: Callable[[str], list[str]]
) -> None:
    untouched = states(s.untouched)
    asked = answer("y")
    out, err = run(
        "add",
        str(s.sequence.pk),
        "--kind",
        "property_value",
        "--config",
        CUSTOMER_CONFIG,
        "--as",
        "alice",
    )
    assert "already true for 3 open enrollment(s)" in err and asked == [""]
    trigger = UnenrollTrigger.objects.get()
    assert f"Added trigger {trigger.pk} to «Intro»" in out and "It ended 3" in out
    assert_ended_by(trigger, s.customers)
    assert states(s.untouched) == untouched


def test_add_cancelled_at_the_prompt_changes_nothing(
    s: Scene, answer: Callable[[str], list[str]]
) -> None:
    before = snapshot()
    answer("n")
    fails(
        "add",
        str(s.sequence.pk),
        "--kind",
        "property_value",
        "--config",
        CUSTOMER_CONFIG,
        "--as",
        "alice",
        match="cancelled: nothing was changed",
    )
    assert snapshot() == before


def test_list_and_remove(s: Scene) -> None:
    trigger, _ = add_trigger(
        sequence=s.sequence, kind="property_value", config={"condition": CUSTOMER}, actor=s.alice
    )
    out, _ = run("list", str(s.sequence.pk))
    assert "lifecycle_stage is “customer”" in out and "alice" in out
    rows = json.loads(run("list", str(s.sequence.pk), "--json")[0])
    assert [(r["id"], r["kind"], r["ended_so_far"]) for r in rows] == [
        (trigger.pk, "property_value", 3)
    ]
    out, _ = run("remove", str(trigger.pk), "--as", "maya")
    assert "Removed trigger" in out and "the 3 enrollment(s) it ended stay ended" in out
    assert not UnenrollTrigger.objects.exists()
    assert_ended_by(trigger, s.customers)
    assert run("list", str(s.sequence.pk))[0].strip() == "No unenrollment trigger."


def test_add_with_json_output_and_yes(s: Scene) -> None:
    out, _ = run(
        "add",
        str(s.sequence.pk),
        "--kind",
        "deal_stage",
        "--config",
        '{"stage": "won"}',
        "--as",
        "maya",
        "--json",
    )
    data = json.loads(out)
    assert data["config"] == {"stage": "won"} and data["ended"] == 0
    assert data["created_by"] == "maya"


def test_a_rep_may_not_change_another_reps_triggers(s: Scene) -> None:
    trigger, _ = add_trigger(sequence=s.sequence, kind="deal_created", config={}, actor=s.alice)
    before = snapshot()
    seq = str(s.sequence.pk)
    fails("add", seq, "--kind", "deal_created", "--as", "bob", "--yes", match="belongs to alice")
    fails("remove", str(trigger.pk), "--as", "bob", match="may only change the triggers")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("kind", "config", "match"),
    [
        ("list_joined", '{"list": 999}', "no list 999"),
        ("list_joined", '{"list": 99999999999999999999999}', '"list" is the id of a list'),
        ("list_joined", '{"list": "VIP"}', '"list" is the id of a list'),
        ("deal_stage", '{"stage": "signed"}', "unknown deal stage 'signed'"),
        ("property_value", "{}", "a condition is an object"),
        ("property_value", "{not json", "--config: not JSON"),
        ("property_value", "[1]", "the trigger's settings are an object"),
        ("property_value", '{"condition": {"value": "a\\u0000"}}', "NUL characters"),
    ],
)
def test_bad_input_gets_a_clear_error_and_changes_nothing(
    s: Scene, kind: str, config: str, match: str
) -> None:
    before = snapshot()
    seq = str(s.sequence.pk)
    for args in (
        ("preview", seq),
        ("add", seq, "--as", "alice", "--yes"),
    ):
        fails(*args, "--kind", kind, "--config", config, match=match)
    assert snapshot() == before


def test_unknown_ids_and_deleted_sequences(s: Scene) -> None:
    fails("list", "99999", match="there is no sequence with id 99999")
    fails("remove", "99999", "--as", "alice", match="there is no trigger with id 99999")
    fails("add", "1", "--kind", "deal_created", "--as", "nobody", match="no user named 'nobody'")
    delete_sequence(sequence=s.sequence, actor=s.alice)
    before: Any = snapshot()
    fails(
        "add",
        str(s.sequence.pk),
        "--kind",
        "deal_created",
        "--as",
        "alice",
        "--yes",
        match="was deleted",
    )
    assert snapshot() == before
