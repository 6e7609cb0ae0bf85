import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from cadency.accounts.models import Role, User
from cadency.ledger.models import Event
from cadency.sequences.models import Absence, Enrollment, EnrollmentStatus
from tests.cli.conftest import Fails, Run, enrolled, task_first_sequence
from tests.factories import make_user

pytestmark = pytest.mark.django_db

MONDAY = dt.datetime(2027, 3, 1, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ada() -> User:
    user = make_user("ada")
    sequence = task_first_sequence(user)
    enrolled(user, sequence)
    enrolled(user, sequence)
    return user


def snapshot() -> tuple[Any, ...]:
    return (
        list(Enrollment.objects.order_by("pk").values_list("pk", "status")),
        list(Absence.objects.values_list("pk", "ended_at")),
        Event.objects.count(),
    )


def test_start_show_and_end(run: Run, ada: User, clock: Any) -> None:
    out = run("absence", "start", "ada", "--until", "2027-03-08", "--as", "ada", "--note", "Ski")
    assert "ada is away until 2027-03-08: 2 enrollment(s) paused, 2 task(s) moved" in out.out
    assert set(Enrollment.objects.values_list("status", flat=True)) == {EnrollmentStatus.PAUSED}
    assert "away until 2027-03-08 (Ski): 2 enrollment(s) held" in run("absence", "show", "ada").out
    shown = run("absence", "show", "ada", "--json").json
    assert shown["away"] is True and shown["absence"]["created_by"] == "ada"
    clock.move_to(dt.datetime(2027, 3, 2, 8, tzinfo=dt.UTC))
    ended = run("absence", "end", "ada", "--as", "ada", "--json").json
    assert ended["resumed"] == 2 and ended["absence"]["ended_by"] == "ada"
    assert set(Enrollment.objects.values_list("status", flat=True)) == {EnrollmentStatus.ACTIVE}
    assert run("absence", "show", "ada").out.strip() == "ada is not away."


def test_ending_when_not_away_changes_nothing(fails: Fails, ada: User) -> None:
    before = snapshot()
    fails("absence", "end", "ada", "--as", "ada", match="ada is not away; nothing was changed")
    assert snapshot() == before


def test_a_rep_cannot_set_another_rep_away(fails: Fails, ada: User) -> None:
    make_user("bo")
    before = snapshot()
    fails("absence", "start", "ada", "--until", "2027-03-08", "--as", "bo", match="bo is a rep")
    assert snapshot() == before


def test_a_manager_may(run: Run, ada: User) -> None:
    make_user("mo", role=Role.MANAGER)
    run("absence", "start", "ada", "--until", "2027-03-08", "--as", "mo")
    assert run("absence", "end", "ada", "--as", "mo", "--json").json["resumed"] == 2


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["start", "ada", "--until", "2027-03-01", "--as", "ada"], "must be after today"),
        (["start", "ada", "--until", "2027-02-01", "--as", "ada"], "must be after today"),
        (["start", "ada", "--until", "08/03/2027", "--as", "ada"], "not a date like"),
        (["start", "nobody", "--until", "2027-03-08", "--as", "ada"], "no user named 'nobody'"),
        (["start", "ada", "--until", "2027-03-08", "--as", "nobody"], "no user named 'nobody'"),
        (["show", "nobody"], "no user named 'nobody'"),
        (["start", "ada", "--until", "2027-03-08", "--as", "ada", "--note", "x" * 501], "500"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    fails: Fails, ada: User, args: list[str], match: str
) -> None:
    before = snapshot()
    fails("absence", *args, match=match)
    assert snapshot() == before


def test_going_away_twice_is_refused(run: Run, fails: Fails, ada: User) -> None:
    run("absence", "start", "ada", "--until", "2027-03-08", "--as", "ada")
    before = snapshot()
    fails("absence", "start", "ada", "--until", "2027-03-09", "--as", "ada", match="already away")
    assert snapshot() == before


def test_the_command_is_listed_in_cadency_help() -> None:
    from cadency.cli import usage

    assert "absence" in usage()
