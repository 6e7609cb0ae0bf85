import pytest

from cadency.sequences.models import UnenrollReason
from cadency.sequences.services.enrollment import unenroll
from tests.cli.conftest import Fails, Run, enrolled, task_first_sequence
from tests.factories import make_contact, make_user

pytestmark = pytest.mark.django_db


def test_it_prints_an_enrollments_ledger_in_order(run: Run) -> None:
    ada = make_user("ada")
    enrollment = enrolled(ada, task_first_sequence(ada))
    unenroll(enrollment=enrollment, reason=UnenrollReason.MANUAL, actor=ada)
    lines = run("events", "--enrollment", str(enrollment.pk)).out.splitlines()
    kinds = [line.split()[3] for line in lines]
    assert kinds == ["enrolled", "task_created", "unenrolled"]
    assert "Ada Example unenrolled" in lines[-1]


def test_it_prints_a_contacts_ledger_as_json(run: Run) -> None:
    ada = make_user("ada")
    jane = make_contact("jane@acme.test")
    first = enrolled(ada, task_first_sequence(ada), contact=jane)
    unenroll(enrollment=first, reason=UnenrollReason.MANUAL, actor=ada)
    enrolled(ada, task_first_sequence(ada, name="Second"), contact=jane)
    events = run("events", "--contact", "jane@acme.test", "--json").json
    assert [e["kind"] for e in events] == [
        "enrolled",
        "task_created",
        "unenrolled",
        "enrolled",
        "task_created",
    ]
    assert all(e["contact"] == "jane@acme.test" for e in events)
    assert events[2]["actor"] == "ada"
    assert events[2]["data"]["reason"] == "manual"
    times = [e["occurred_at"] for e in events]
    assert times == sorted(times)


def test_a_contact_without_events_says_so(run: Run) -> None:
    make_contact("jane@acme.test")
    assert run("events", "--contact", "jane@acme.test").out.strip() == "No events."


def test_unknown_contact_or_enrollment_and_missing_choice_are_clear_errors(fails: Fails) -> None:
    fails("events", "--contact", "nobody@acme.test", match="no contact with the address")
    fails("events", "--enrollment", "999", match="no enrollment with id 999")
    fails("events", match="one of the arguments --contact --enrollment is required")
    fails("events", "--contact", "a@acme.test", "--enrollment", "1", match="not allowed with")
