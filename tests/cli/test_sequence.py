import json
from pathlib import Path

import pytest

from cadency.accounts.models import Role
from cadency.sequences.models import EnrollmentStatus, Sequence, UnenrollReason
from tests.cli.conftest import Answer, Fails, Run, enrolled, task_first_sequence
from tests.factories import make_user

pytestmark = pytest.mark.django_db

YAML = """\
name: Intro to Acme
settings:
  send_window: [08:00, 18:30]       # unquoted times stay times
  send_days: [mon, tue, wed, thu, fri]
  business_days_only: true
  unenroll_same_company: yes
steps:
  - type: automated_email
    subject: Quick question, {{ contact.first_name | "there" }}
    body: |
      Hi {{ contact.first_name | "there" }},
      would a short call help?
  - type: call
    delay: 2
    delay_unit: business_days
    title: Call {{ contact.full_name | "them" }}
    pause_until_complete: true
  - type: automated_email
    delay: 3
    body: Just following up.
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_it_creates_a_sequence_from_yaml(run: Run, tmp_path: Path) -> None:
    make_user("ada")
    result = run("sequence", "create", write(tmp_path, "intro.yaml", YAML), "--owner", "ada")
    sequence = Sequence.objects.get()
    assert f"Created sequence {sequence.pk} «Intro to Acme» with 3 steps" in result.out
    assert sequence.send_window_end.isoformat() == "18:30:00"
    assert sequence.unenroll_same_company is True
    steps = list(sequence.current_steps())
    assert [s.kind for s in steps] == ["automated_email", "call", "automated_email"]
    assert steps[1].pause_until_complete is True
    assert steps[1].delay_unit == "business_days"


def test_it_creates_a_sequence_from_json_and_prints_it_as_json(run: Run, tmp_path: Path) -> None:
    make_user("ada")
    spec = {"name": "Tasks", "steps": [{"type": "task", "title": "Research"}]}
    path = write(tmp_path, "tasks.json", json.dumps(spec))
    data = run("sequence", "create", path, "--owner", "ada", "--json").json
    assert data["name"] == "Tasks"
    assert data["owner"] == "ada"
    assert data["steps"][0]["type"] == "task"
    assert data["enrollments"] == {"active": 0, "paused": 0, "finished": 0, "unenrolled": 0}


def test_a_bad_step_names_the_step_and_field_and_creates_nothing(
    fails: Fails, tmp_path: Path
) -> None:
    make_user("ada")
    bad = YAML.replace("  - type: call", "  - type: fax")
    path = write(tmp_path, "bad.yaml", bad)
    result = fails("sequence", "create", path, "--owner", "ada", match=r"step 2\.type")
    assert result.out == ""
    assert not Sequence.objects.exists()


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (("delay: 2\n", "delay: -2\n"), r"step 2\.delay"),
        (("    body: Just following up.\n", ""), r"step 3\.body"),
        (("{{ contact.full_name", "{{ contakt.full_name"), r"step 2\.title"),
        (("[08:00, 18:30]", "[18:00, 08:00]"), r"settings\.send_window"),
    ],
)
def test_each_invalid_field_is_named(
    fails: Fails, tmp_path: Path, change: tuple[str, str], where: str
) -> None:
    make_user("ada")
    path = write(tmp_path, "bad.yaml", YAML.replace(*change))
    fails("sequence", "create", path, "--owner", "ada", match=where)
    assert not Sequence.objects.exists()


def test_invalid_yaml_says_where(fails: Fails, tmp_path: Path) -> None:
    make_user("ada")
    path = write(tmp_path, "broken.yaml", "name: X\nsteps:\n  - type: task\n   title: [oops\n")
    fails("sequence", "create", path, "--owner", "ada", match=r"line \d+ column \d+: invalid YAML")


def test_invalid_json_says_where(fails: Fails, tmp_path: Path) -> None:
    make_user("ada")
    path = write(tmp_path, "broken.json", '{"name": "X",\n "steps": [}')
    fails("sequence", "create", path, "--owner", "ada", match=r"line 2 column \d+: invalid JSON")


def test_unknown_owner_file_or_extension_are_clear_errors(fails: Fails, tmp_path: Path) -> None:
    path = write(tmp_path, "intro.yaml", YAML)
    fails("sequence", "create", path, "--owner", "ghost", match="no user named 'ghost'")
    make_user("ada")
    missing = str(tmp_path / "missing.yaml")
    fails("sequence", "create", missing, "--owner", "ada", match="no such file")
    txt = write(tmp_path, "intro.txt", YAML)
    fails("sequence", "create", txt, "--owner", "ada", match=r"expected a \.yaml")
    assert not Sequence.objects.exists()


def test_show_prints_settings_steps_and_counts(run: Run) -> None:
    ada = make_user("ada")
    sequence = task_first_sequence(ada)
    enrolled(ada, sequence)
    text = run("sequence", "show", str(sequence.pk)).out
    assert "Intro" in text
    assert "1. task" in text
    assert "2. automated_email" in text
    assert "1 active" in text
    data = run("sequence", "show", str(sequence.pk), "--json").json
    assert data["enrollments"]["active"] == 1
    assert [s["position"] for s in data["steps"]] == [1, 2]
    assert data["settings"]["send_days"] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def test_show_of_an_unknown_id_is_a_clear_error(fails: Fails) -> None:
    fails("sequence", "show", "404", match="no sequence with id 404")
    fails("sequence", "show", "abc", match="not a whole number")


def test_list_shows_sequences_and_hides_deleted_ones(run: Run) -> None:
    ada = make_user("ada")
    keep = task_first_sequence(ada, name="Keep")
    gone = task_first_sequence(ada, name="Gone")
    run("sequence", "delete", str(gone.pk), "--as", "ada", "--yes")
    listed = run("sequence", "list", "--json").json
    assert [(s["id"], s["name"], s["steps"]) for s in listed] == [(keep.pk, "Keep", 2)]
    assert len(run("sequence", "list", "--deleted", "--json").json) == 2
    assert "Keep" in run("sequence", "list").out


def test_the_owner_deletes_a_sequence_and_its_enrollments_end(run: Run) -> None:
    ada = make_user("ada")
    sequence = task_first_sequence(ada)
    enrollment = enrolled(ada, sequence)
    result = run("sequence", "delete", str(sequence.pk), "--as", "ada", "--yes", "--json")
    assert result.json == {"id": sequence.pk, "deleted": True, "enrollments_ended": 1}
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.UNENROLLED
    assert enrollment.reason == UnenrollReason.SEQUENCE_DELETED


def test_another_rep_may_not_delete_a_sequence(fails: Fails) -> None:
    ada = make_user("ada")
    make_user("bo")
    sequence = task_first_sequence(ada)
    enrollment = enrolled(ada, sequence)
    fails("sequence", "delete", str(sequence.pk), "--as", "bo", "--yes", match="belongs to ada")
    sequence.refresh_from_db()
    enrollment.refresh_from_db()
    assert sequence.archived_at is None
    assert enrollment.status == EnrollmentStatus.ACTIVE


def test_a_manager_may_delete_anyones_sequence(run: Run) -> None:
    sequence = task_first_sequence(make_user("ada"))
    make_user("mo", role=Role.MANAGER)
    run("sequence", "delete", str(sequence.pk), "--as", "mo", "--yes")
    sequence.refresh_from_db()
    assert sequence.archived_at is not None


def test_delete_asks_with_the_count_and_no_changes_nothing(
    fails: Fails, run: Run, answer: Answer
) -> None:
    ada = make_user("ada")
    sequence = task_first_sequence(ada)
    enrolled(ada, sequence)
    asked = answer("no")
    result = fails("sequence", "delete", str(sequence.pk), "--as", "ada", match="cancelled")
    assert "1 open enrollment(s) will end" in result.err
    assert asked == [""]
    sequence.refresh_from_db()
    assert sequence.archived_at is None
    answer("y")
    assert (
        "1 open enrollment(s) ended"
        in run("sequence", "delete", str(sequence.pk), "--as", "ada").out
    )
    fails("sequence", "delete", str(sequence.pk), "--as", "ada", "--yes", match="already deleted")
