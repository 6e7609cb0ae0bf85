import pytest

from cadency.sequences.models import UnenrollReason
from cadency.sequences.services.enrollment import pause, unenroll
from tests.cli.conftest import Fails, Run, enrolled, task_first_sequence
from tests.factories import make_contact, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(db: None) -> dict[str, int]:
    """ada: one active (jane), one paused; bo: one unenrolled by hand, in another sequence."""
    ada, bo = make_user("ada"), make_user("bo")
    intro, other = task_first_sequence(ada), task_first_sequence(bo, name="Other")
    active = enrolled(ada, intro, contact=make_contact("jane@acme.test"))
    paused = enrolled(ada, intro)
    pause(enrollment=paused, actor=ada)
    ended = enrolled(bo, other)
    unenroll(enrollment=ended, reason=UnenrollReason.MANUAL, actor=bo)
    return {
        "active": active.pk,
        "paused": paused.pk,
        "ended": ended.pk,
        "intro": intro.pk,
        "other": other.pk,
    }


def ids(run: Run, *args: str) -> list[int]:
    return [e["id"] for e in run("enrollments", "list", *args, "--json").json]


def test_it_lists_all_enrollments_newest_first(run: Run, three: dict[str, int]) -> None:
    assert ids(run) == [three["ended"], three["paused"], three["active"]]
    table = run("enrollments", "list").out
    assert "jane@acme.test" in table
    assert "manual" in table


def test_it_filters_by_status_reason_sequence_contact_and_user(
    run: Run, three: dict[str, int]
) -> None:
    assert ids(run, "--status", "paused") == [three["paused"]]
    assert ids(run, "--reason", "manual") == [three["ended"]]
    assert ids(run, "--reason", "replied") == []
    assert ids(run, "--sequence", str(three["other"])) == [three["ended"]]
    assert ids(run, "--contact", "jane@acme.test") == [three["active"]]
    assert ids(run, "--enrolled-by", "ada", "--status", "active") == [three["active"]]


def test_the_json_has_the_details(run: Run, three: dict[str, int]) -> None:
    rows = run("enrollments", "list", "--reason", "manual", "--json").json
    assert rows[0]["status"] == "unenrolled"
    assert rows[0]["enrolled_by"] == "bo"
    assert rows[0]["sequence"]["name"] == "Other"
    assert "bo" in rows[0]["reason_text"].lower()
    assert rows[0]["ended_at"] is not None


def test_the_limit_cuts_the_list_and_says_so(run: Run, three: dict[str, int]) -> None:
    result = run("enrollments", "list", "--limit", "1", "--json")
    assert [e["id"] for e in result.json] == [three["ended"]]
    assert "Showing 1 of 3" in result.err


def test_bad_filters_are_clear_errors(fails: Fails, three: dict[str, int]) -> None:
    fails("enrollments", "list", "--status", "gone", match="invalid choice")
    fails("enrollments", "list", "--reason", "bored", match="invalid choice")
    fails("enrollments", "list", "--sequence", "999", match="no sequence with id 999")
    fails("enrollments", "list", "--contact", "nobody@acme.test", match="no contact")
    fails("enrollments", "list", "--enrolled-by", "ghost", match="no user named 'ghost'")


def test_an_empty_list_says_so(run: Run) -> None:
    assert "No enrollments match." in run("enrollments", "list").out
    assert run("enrollments", "list", "--json").json == []
