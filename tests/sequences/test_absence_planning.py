"""plan_catch_up: the backlog after an absence is spread, never sent in a burst."""

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

from cadency.sequences.services.catch_up import Pending, plan_catch_up
from cadency.sequences.services.scheduling import SendPolicy

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))
OFFICE_HOURS = SendPolicy(dt.time(9), dt.time(17), WEEKDAYS, True, PARIS)
ALL_DAY = SendPolicy(dt.time(0), dt.time(23, 59, 59), EVERY_DAY, False, PARIS)
# Monday 1 March 2027, midnight in Paris: the sweep ends an absence then.
MONDAY = dt.datetime(2027, 3, 1, 0, 0, tzinfo=PARIS)
BEFORE = MONDAY - dt.timedelta(days=5)


def backlog(count: int, *, lane: int = 1, policy: int = 1, first_id: int = 1) -> list[Pending]:
    """``count`` runs that fell due one minute apart while the rep was away."""
    return [
        Pending(first_id + i, BEFORE + dt.timedelta(minutes=i), lane, policy) for i in range(count)
    ]


def per_day(plan: dict[int, dt.datetime], tz: ZoneInfo = PARIS) -> list[int]:
    counts = Counter(when.astimezone(tz).date() for when in plan.values())
    return [counts[day] for day in sorted(counts)]


def test_120_overdue_sends_with_capacity_50_go_out_50_50_20() -> None:
    plan = plan_catch_up(backlog(120), {1: 50}, {1: OFFICE_HOURS}, MONDAY)
    assert len(plan) == 120
    assert per_day(plan) == [50, 50, 20]
    days = sorted({when.astimezone(PARIS).date() for when in plan.values()})
    assert days == [dt.date(2027, 3, 1), dt.date(2027, 3, 2), dt.date(2027, 3, 3)]


def test_each_mailbox_has_its_own_capacity() -> None:
    runs = backlog(60, lane=1) + backlog(30, lane=2, first_id=1000)
    plan = plan_catch_up(runs, {1: 50, 2: 10}, {1: OFFICE_HOURS}, MONDAY)
    assert per_day({k: v for k, v in plan.items() if k < 1000}) == [50, 10]
    assert per_day({k: v for k, v in plan.items() if k >= 1000}) == [10, 10, 10]


def test_the_window_and_business_days_are_respected() -> None:
    friday = dt.datetime(2027, 3, 5, 0, 0, tzinfo=PARIS)
    plan = plan_catch_up(backlog(30), {1: 10}, {1: OFFICE_HOURS}, friday)
    for when in plan.values():
        local = when.astimezone(PARIS)
        assert local.weekday() < 5, "no weekend day"
        assert dt.time(9) <= local.time() < dt.time(17), local
    days = sorted({when.astimezone(PARIS).date() for when in plan.values()})
    assert days == [dt.date(2027, 3, 5), dt.date(2027, 3, 8), dt.date(2027, 3, 9)]


def test_the_oldest_go_first() -> None:
    runs = list(reversed(backlog(20)))
    plan = plan_catch_up(runs, {1: 5}, {1: OFFICE_HOURS}, MONDAY)
    by_due = [run.id for run in sorted(runs, key=lambda r: r.due_at)]
    assert sorted(plan, key=lambda pk: plan[pk]) == by_due


def test_a_day_is_spread_across_the_window_not_piled_at_its_opening() -> None:
    plan = plan_catch_up(backlog(4), {1: 50}, {1: OFFICE_HOURS}, MONDAY)
    times = sorted(when.astimezone(PARIS).strftime("%H:%M") for when in plan.values())
    assert times == ["09:00", "11:00", "13:00", "15:00"]


def test_nothing_moves_earlier_and_what_is_not_due_keeps_its_time() -> None:
    later = Pending(99, MONDAY + dt.timedelta(days=2, hours=10), 1, 1)
    plan = plan_catch_up([*backlog(10), later], {1: 50}, {1: OFFICE_HOURS}, MONDAY)
    assert 99 not in plan
    assert all(when >= MONDAY for when in plan.values())


def test_a_return_during_the_window_gets_only_the_rest_of_the_days_share() -> None:
    one_pm = MONDAY.replace(hour=13)
    plan = plan_catch_up(backlog(40), {1: 20}, {1: OFFICE_HOURS}, one_pm)
    assert per_day(plan) == [10, 20, 10]
    first = min(plan.values())
    assert first == one_pm, "the first goes at once, the rest spaced until 17:00"


def test_runs_with_different_windows_share_their_mailboxs_capacity() -> None:
    runs = backlog(30, policy=1) + backlog(30, policy=2, first_id=1000)
    plan = plan_catch_up(runs, {1: 20}, {1: OFFICE_HOURS, 2: ALL_DAY}, MONDAY)
    assert len(plan) == 60
    assert max(Counter(when.astimezone(PARIS).date() for when in plan.values()).values()) <= 20


def test_a_mailbox_with_no_capacity_still_moves_forward_one_a_day() -> None:
    plan = plan_catch_up(backlog(3), {1: 0}, {1: ALL_DAY}, MONDAY)
    assert per_day(plan) == [1, 1, 1]


def test_nothing_overdue_means_an_empty_plan() -> None:
    assert plan_catch_up([], {}, {}, MONDAY) == {}
