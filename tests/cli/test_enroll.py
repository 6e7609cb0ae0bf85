import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from cadency.contacts.models import Suppression, SuppressionReason
from cadency.ledger.models import Event
from cadency.mailboxes.models import Health
from cadency.sequences.models import Enrollment, StepRun, StepRunState, Task
from tests.cli.conftest import Fails, Output, Run, task_first_sequence
from tests.factories import make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db


def nothing_written() -> bool:
    return not (Enrollment.objects.exists() or StepRun.objects.exists() or Task.objects.exists())


def enroll_refused(*args: str) -> Output:
    """Run ``cadency enroll`` expecting a refusal: exit status 1, message on stderr."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("enroll", *args, stdout=out, stderr=err)
    assert exit_info.value.code == 1
    return Output(out.getvalue(), err.getvalue())


def test_it_enrolls_and_runs_a_first_task_step_at_once(run: Run) -> None:
    ada = make_user("ada")
    make_mailbox(ada)
    sequence = task_first_sequence(ada)
    make_contact("jane@acme.test")
    result = run(
        "enroll", "--contact", "jane@acme.test", "--sequence", str(sequence.pk), "--as", "ada"
    )
    enrollment = Enrollment.objects.get()
    task = Task.objects.get()
    assert f"(enrollment {enrollment.pk})" in result.out
    assert f"task {task.pk} created: Research Jane" in result.out
    assert enrollment.enrolled_by == ada


def test_it_prints_the_enrollment_as_json(run: Run) -> None:
    ada = make_user("ada")
    make_mailbox(ada)
    sequence = task_first_sequence(ada)
    make_contact("jane@acme.test")
    data = run(
        "enroll", "--contact", "JANE@acme.test", "--sequence", str(sequence.pk), "--as", "ada",
        "--json",
    ).json  # fmt: skip
    assert data["contact"] == "jane@acme.test"
    assert data["status"] == "active"
    assert data["enrolled_by"] == "ada"
    assert data["first_step"]["type"] == "task"
    assert data["first_step"]["task"]["title"] == "Research Jane"


def test_it_finds_the_contact_by_an_additional_address(run: Run) -> None:
    ada = make_user("ada")
    make_mailbox(ada)
    sequence = task_first_sequence(ada)
    jane = make_contact("jane@acme.test")
    jane.aliases.create(email="jane.doe@example.test")
    run(
        "enroll",
        "--contact",
        "jane.doe@example.test",
        "--sequence",
        str(sequence.pk),
        "--as",
        "ada",
    )
    assert Enrollment.objects.get().contact == jane


def test_a_later_start_schedules_the_first_email_without_sending(run: Run) -> None:
    ada = make_user("ada")
    make_mailbox(ada)
    sequence = make_sequence(ada)  # first step is an automated email
    make_contact("jane@acme.test")
    start = (timezone.now() + dt.timedelta(days=3)).replace(microsecond=0)
    data = run(
        "enroll", "--contact", "jane@acme.test", "--sequence", str(sequence.pk), "--as", "ada",
        "--start-at", start.isoformat(), "--json",
    ).json  # fmt: skip
    run_row = StepRun.objects.get()
    assert run_row.state == StepRunState.SCHEDULED
    assert run_row.due_at == start
    assert data["first_step"]["state"] == "scheduled"
    assert data["first_step"]["message_id"] is None


def test_it_starts_at_a_chosen_step_from_a_chosen_mailbox(run: Run) -> None:
    ada = make_user("ada")
    make_mailbox(ada)
    second = make_mailbox(ada, email="ada.sales@example.test")
    sequence = task_first_sequence(ada)
    make_contact("jane@acme.test")
    start = (timezone.now() + dt.timedelta(days=1)).isoformat()
    run(
        "enroll", "--contact", "jane@acme.test", "--sequence", str(sequence.pk), "--as", "ada",
        "--start-step", "2", "--mailbox", "ada.sales@example.test", "--start-at", start,
    )  # fmt: skip
    enrollment = Enrollment.objects.get()
    assert enrollment.current_position == 2
    assert enrollment.mailbox == second


def test_a_refusal_prints_its_code_and_exits_1(run: Run) -> None:
    ada = make_user("ada")
    make_mailbox(ada)
    sequence = task_first_sequence(ada)
    jane = make_contact("jane@acme.test")
    args = ["--contact", "jane@acme.test", "--sequence", str(sequence.pk), "--as", "ada"]
    run("enroll", *args)
    before = Event.objects.count()
    result = enroll_refused(*args, "--json")
    assert result.err.startswith("refused (already_enrolled): jane@acme.test is already active")
    assert result.out == ""
    assert Enrollment.objects.filter(contact=jane).count() == 1
    assert Event.objects.count() == before


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("failing_mailbox", "no_working_mailbox"),
        ("suppressed", "suppressed"),
        ("missing_token", "missing_token"),
        ("step_too_far", "invalid_start_step"),
    ],
)
def test_every_refusal_shows_its_code_and_writes_nothing(setup: str, code: str) -> None:
    ada = make_user("ada")
    make_mailbox(ada, health=Health.FAILING if setup == "failing_mailbox" else Health.OK)
    steps = [{"type": "task", "title": "Call {{ contact.favourite_colour }}"}]
    if setup == "missing_token":
        sequence = make_sequence(ada, steps=steps)
    else:
        sequence = task_first_sequence(ada)
    make_contact("jane@acme.test")
    if setup == "suppressed":
        Suppression.objects.create(email="jane@acme.test", reason=SuppressionReason.UNSUBSCRIBED)
    args = ["--contact", "jane@acme.test", "--sequence", str(sequence.pk), "--as", "ada"]
    if setup == "step_too_far":
        args += ["--start-step", "9"]
    assert enroll_refused(*args).err.startswith(f"refused ({code}): ")
    assert nothing_written()


def test_unknown_contact_sequence_user_or_mailbox_are_clear_errors(fails: Fails) -> None:
    ada = make_user("ada")
    make_mailbox(ada)
    sequence = str(task_first_sequence(ada).pk)
    make_contact("jane@acme.test")
    base = ["enroll", "--contact", "jane@acme.test", "--sequence", sequence, "--as", "ada"]
    fails("enroll", "--contact", "nobody@acme.test", "--sequence", sequence, "--as", "ada",
          match="no contact with the address nobody@acme.test")  # fmt: skip
    fails("enroll", "--contact", "not an address", "--sequence", sequence, "--as", "ada",
          match="not a valid email address")  # fmt: skip
    fails("enroll", "--contact", "jane@acme.test", "--sequence", "999", "--as", "ada",
          match="no sequence with id 999")  # fmt: skip
    fails("enroll", "--contact", "jane@acme.test", "--sequence", sequence, "--as", "ghost",
          match="no user named 'ghost'")  # fmt: skip
    fails(*base, "--mailbox", "other@example.test", match="no mailbox of ada 'other@example.test'")
    assert nothing_written()


def test_a_start_time_must_have_an_offset_and_be_in_the_future(fails: Fails) -> None:
    ada = make_user("ada")
    make_mailbox(ada)
    sequence = str(task_first_sequence(ada).pk)
    make_contact("jane@acme.test")
    base = ["enroll", "--contact", "jane@acme.test", "--sequence", sequence, "--as", "ada"]
    fails(*base, "--start-at", "2031-06-03T09:00", match="has no UTC offset")
    fails(*base, "--start-at", "next tuesday", match="not an ISO 8601 date-time")
    fails(*base, "--start-at", "2001-01-01T09:00Z", match="is in the past")
    assert nothing_written()


def test_a_deactivated_user_cannot_enroll(fails: Fails) -> None:
    ada = make_user("ada", is_active=False)
    make_mailbox(ada)
    sequence = str(task_first_sequence(ada).pk)
    make_contact("jane@acme.test")
    fails("enroll", "--contact", "jane@acme.test", "--sequence", sequence, "--as", "ada",
          match="deactivated")  # fmt: skip
    assert nothing_written()
