"""/events: the ledger, filtered by contact, enrollment, sequence and kind."""

import pytest

from cadency.accounts.models import User
from cadency.ledger.models import Event
from tests.api.support import Api, enrolled, error_of, task_first_sequence
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def test_it_lists_the_ledger_oldest_first_with_filters(as_alice: Api, alice: User) -> None:
    sequence = task_first_sequence(alice)
    jane = make_contact("jane@acme.test")
    enrollment = enrolled(alice, sequence, jane)
    enrolled(alice, sequence, make_contact("ray@acme.test"))
    as_alice.post(f"/enrollments/{enrollment.pk}/unenroll")

    everything = as_alice.get("/events").json()
    assert everything["count"] == Event.objects.count()
    times = [e["occurred_at"] for e in everything["items"]]
    assert times == sorted(times)

    janes = as_alice.get("/events", contact=jane.pk).json()["items"]
    assert {e["contact"] for e in janes} == {jane.pk}
    assert janes[-1]["kind"] == "unenrolled"
    assert janes[-1]["actor"]["username"] == "alice"
    assert "unenrolled" in janes[-1]["sentence"]

    by_enrollment = as_alice.get("/events", enrollment=enrollment.pk, kind="unenrolled").json()
    assert by_enrollment["count"] == 1
    in_sequence = as_alice.get("/events", sequence=sequence.pk, kind="enrolled").json()
    assert in_sequence["count"] == 2


def test_it_shows_one_event(as_alice: Api, alice: User) -> None:
    event = Event.objects.first()
    assert event is not None, "creating alice's token wrote one"
    assert as_alice.get(f"/events/{event.pk}").json()["kind"] == event.kind


@pytest.mark.parametrize("name", ["contact", "enrollment", "sequence"])
def test_a_filter_on_an_unknown_object_is_not_found(as_alice: Api, name: str) -> None:
    assert name in error_of(as_alice.get("/events", **{name: 999}), 404, "not_found")


def test_a_malformed_filter_is_invalid(as_alice: Api) -> None:
    error_of(as_alice.get("/events", contact="jane"), 400, "invalid")
    error_of(as_alice.get("/events/999"), 404, "not_found")
