"""/forecast: when each step would run if you enrolled the contact now."""

import datetime as dt

import pytest

from cadency.accounts.models import User
from cadency.mailboxes.models import Health
from tests.api.support import Api, error_of, snapshot
from tests.factories import make_contact, make_sequence

pytestmark = pytest.mark.django_db


def test_it_forecasts_every_step_in_the_contacts_time_zone(as_alice: Api, alice: User) -> None:
    sequence = make_sequence(alice)
    contact = make_contact("jane@acme.test", time_zone="Asia/Tokyo")
    before = snapshot()
    response = as_alice.get("/forecast", contact=contact.pk, sequence=sequence.pk)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mailbox"]["email"] == "alice@example.test"
    steps = body["steps"]
    assert [s["position"] for s in steps] == [1, 2]
    assert {s["time_zone"] for s in steps} == {"Asia/Tokyo"}
    first, second = (dt.datetime.fromisoformat(s["due_at"]) for s in steps)
    assert second - first >= dt.timedelta(days=2)
    assert snapshot() == before, "a forecast writes nothing"


def test_it_forecasts_from_a_later_step_and_a_chosen_mailbox(as_alice: Api, alice: User) -> None:
    sequence = make_sequence(alice)
    contact = make_contact("jane@acme.test")
    body = as_alice.get(
        "/forecast",
        contact=contact.pk,
        sequence=sequence.pk,
        mailbox=alice.mailboxes.get().pk,
        start_step=2,
    ).json()
    assert [s["position"] for s in body["steps"]] == [2]


def test_refusals_are_those_of_enrolling(as_alice: Api, alice: User, bob: User) -> None:
    sequence = make_sequence(alice)
    contact = make_contact("jane@acme.test")
    query = {"contact": contact.pk, "sequence": sequence.pk}
    error_of(as_alice.get("/forecast", **query, start_step=3), 422, "invalid_start_step")
    error_of(
        as_alice.get("/forecast", **query, mailbox=bob.mailboxes.get().pk),
        422,
        "no_working_mailbox",
    )
    alice.mailboxes.update(health=Health.FAILING)
    error_of(as_alice.get("/forecast", **query), 422, "no_working_mailbox")


def test_bad_input(as_alice: Api, alice: User) -> None:
    sequence = make_sequence(alice)
    contact = make_contact("jane@acme.test")
    error_of(as_alice.get("/forecast", contact=contact.pk), 400, "invalid")
    error_of(as_alice.get("/forecast", contact=999, sequence=sequence.pk), 404, "not_found")
    error_of(as_alice.get("/forecast", contact=contact.pk, sequence=999), 404, "not_found")
    error_of(
        as_alice.get("/forecast", contact=contact.pk, sequence=sequence.pk, mailbox=999),
        404,
        "not_found",
    )
