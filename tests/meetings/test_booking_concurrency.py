"""Two visitors racing for one slot: exactly one gets it, the other is told and writes nothing.

Runs on whichever database the suite uses: the file-based SQLite test database,
or PostgreSQL with ``DATABASE_URL`` (``make test`` runs both).
"""

import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest
import time_machine
from django.db import connection, connections

from cadency.contacts.models import Contact
from cadency.meetings import booking
from cadency.meetings.booking import SlotTaken, book
from cadency.meetings.models import Meeting, MeetingAttendee, MeetingLink
from tests.factories import make_mailbox, make_user
from tests.meetings.booking_support import MONDAY_MORNING, at_paris, make_link

TEN = at_paris(dt.date(2026, 3, 2), "10:00")


@pytest.fixture(autouse=True)
def monday_morning() -> Iterator[None]:
    with time_machine.travel(MONDAY_MORNING, tick=True):
        yield


@pytest.fixture
def link(transactional_db: None) -> MeetingLink:
    alice = make_user("alice", first_name="Alice", last_name="Martin")
    make_mailbox(alice, "rep@example.test")
    return make_link(alice)


def race(link: MeetingLink, visitors: list[tuple[str, str]]) -> list[str]:
    """Each visitor books ``TEN`` in their own thread (own connection), all at once."""
    ready = threading.Barrier(len(visitors))
    outcomes: list[str] = []

    def visit(name: str, email: str) -> None:
        try:
            ready.wait(timeout=10)
            book(link=link, duration_minutes=30, start=TEN, name=name, email=email)
            outcomes.append("booked")
        except SlotTaken:
            outcomes.append("taken")
        except Exception as exc:  # any other failure fails the test below
            outcomes.append(f"error: {exc!r}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=visit, args=visitor) for visitor in visitors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


def test_two_visitors_racing_for_one_slot_exactly_one_wins(
    link: MeetingLink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Widen the window between the check and the write, where a double booking would slip in.
    find_contact = booking.contact_for_visitor

    def slow_contact(*args: object) -> Contact | None:
        time.sleep(0.3)
        return find_contact(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(booking, "contact_for_visitor", slow_contact)
    outcomes = race(link, [("Jane Doe", "jane@acme.test"), ("John Roe", "john@acme.test")])

    assert outcomes == ["booked", "taken"], connection.vendor
    meeting = Meeting.objects.get()
    assert (meeting.starts_at, meeting.link_id) == (TEN, link.pk)
    winner = MeetingAttendee.objects.get().email
    loser = ({"jane@acme.test", "john@acme.test"} - {winner}).pop()
    # The loser left no trace: no contact, no attendee.
    assert not Contact.objects.filter(email=loser).exists()


def test_many_visitors_racing_still_book_the_slot_once(link: MeetingLink) -> None:
    visitors = [(f"Visitor {n}", f"contact{n:03d}@acme.test") for n in range(1, 5)]
    outcomes = race(link, visitors)
    assert outcomes == ["booked", "taken", "taken", "taken"], connection.vendor
    assert Meeting.objects.count() == 1
