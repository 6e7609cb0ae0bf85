"""Spreading a backlog of due steps over the following days (rep absence): pure
planning, no database."""

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from cadency.sequences.services import scheduling


@dataclass(frozen=True)
class Pending:
    """Something with a due time to place: a step run or a task.

    ``lane`` shares a daily capacity (a mailbox; the user for tasks); ``policy_key``
    names the send window it must land in (an enrollment's).
    """

    id: int
    due_at: dt.datetime
    lane: int
    policy_key: int


@dataclass(frozen=True)
class _Day:
    date: dt.date
    opens: dt.datetime
    closes: dt.datetime
    capacity: int


def _days(policy: scheduling.SendPolicy, start: dt.datetime, per_day: int) -> Iterator[_Day]:
    """The policy's send windows from ``start`` on. A first window already under
    way gets its share of the day's capacity, so a return at 3 pm is no burst."""
    moment = scheduling.next_send_time(start, policy)
    while True:
        date = moment.astimezone(policy.tz).date()
        opens, closes = policy.window_on(date)
        share = (closes - moment) / (closes - opens)
        yield _Day(date, moment, closes, max(1, math.ceil(per_day * share)))
        moment = scheduling.next_day_start(moment, policy)


def plan_catch_up(
    runs: Iterable[Pending],
    capacity_per_day: Mapping[int, int],
    policies: Mapping[int, scheduling.SendPolicy],
    start: dt.datetime,
) -> dict[int, dt.datetime]:
    """New due times for what fell due before ``start``: {id: due time}.

    Per lane at most its capacity a day (days are the window's own), oldest due
    first, spread evenly across each day's window. What is due at or after
    ``start`` keeps its time and is left out of the answer; nothing moves earlier.
    """
    backlog = sorted((r for r in runs if r.due_at < start), key=lambda r: (r.due_at, r.id))
    cursors: dict[tuple[int, scheduling.SendPolicy], tuple[Iterator[_Day], _Day]] = {}
    taken: dict[tuple[int, dt.date], list[tuple[Pending, _Day]]] = defaultdict(list)
    for run in backlog:
        policy = policies[run.policy_key]
        key = (run.lane, policy)
        if key not in cursors:
            days = _days(policy, start, max(1, capacity_per_day[run.lane]))
            cursors[key] = (days, next(days))
        days, day = cursors[key]
        while len(taken[(run.lane, day.date)]) >= day.capacity:
            day = next(days)
        cursors[key] = (days, day)
        taken[(run.lane, day.date)].append((run, day))
    plan: dict[int, dt.datetime] = {}
    for placed in taken.values():
        for index, (run, day) in enumerate(placed):
            plan[run.id] = day.opens + (day.closes - day.opens) * index // len(placed)
    return plan
