"""The Enrollments tab: filters, the bulk unenroll (ids or all matching), the row actions,
permissions, bad input, and a constant number of queries per page."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cadency.accounts.models import Role
from cadency.ledger.models import Event
from cadency.sequences.models import Enrollment, StepRunState, UnenrollReason
from cadency.sequences.services.enrollment import pause, unenroll
from tests.factories import make_sequence
from tests.sequences.pages import client_for, enroll_some, messages_of, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def team() -> Any:
    alice = person("alice")
    bob = person("bob")
    boss = person("boss", Role.MANAGER)
    sequence = make_sequence(alice, name="Intro")
    return alice, bob, boss, sequence


def states() -> dict[int, tuple[str, str]]:
    return {e.pk: (e.status, e.reason) for e in Enrollment.objects.all()}


def bulk(client: Any, sequence: Any, **data: Any) -> Any:
    return client.post(f"/sequences/{sequence.pk}/enrollments/unenroll/", data)


def test_the_tab_lists_enrollments_with_status_reason_and_row_actions(team: Any) -> None:
    alice, _, _, sequence = team
    mine, ended = enroll_some(alice, sequence, 2)
    unenroll(enrollment=ended, reason=UnenrollReason.MANUAL, actor=alice)
    pause(enrollment=mine, actor=alice)
    response = client_for(alice).get(f"/sequences/{sequence.pk}/enrollments/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="badge paused"' in html and 'class="badge unenrolled"' in html
    assert 'title="Alice Example unenrolled' in html, "the reason sentence is the tooltip"
    assert f'action="/enrollments/{mine.pk}/resume/"' in html
    assert f'action="/enrollments/{mine.pk}/pause/"' not in html
    assert f'action="/enrollments/{mine.pk}/unenroll/"' in html
    assert f'action="/enrollments/{ended.pk}/unenroll/"' not in html, "ended: nothing to do"
    assert f'href="/contacts/{mine.contact_id}/">' in html
    assert f'name="ids" value="{mine.pk}"' in html
    assert 'id="select-page"' in html


def test_a_rep_sees_no_actions_on_another_reps_enrollment(team: Any) -> None:
    alice, bob, _, sequence = team
    (theirs,) = enroll_some(bob, sequence, 1)
    html = client_for(alice).get(f"/sequences/{sequence.pk}/enrollments/").content.decode()
    assert f'action="/enrollments/{theirs.pk}/unenroll/"' not in html
    assert 'data-actionable="0"' in html
    assert "only they or a manager can change it" in html


def test_filters_by_status_reason_and_search(team: Any) -> None:
    alice, _, _, sequence = team
    active, replied, manual = enroll_some(alice, sequence, 3)
    unenroll(enrollment=replied, reason=UnenrollReason.REPLIED)
    unenroll(enrollment=manual, reason=UnenrollReason.MANUAL, actor=alice)
    client = client_for(alice)
    url = f"/sequences/{sequence.pk}/enrollments/"

    def shown(query: str) -> set[int]:
        rows = client.get(url + query).context["rows"]
        return {row.enrollment.pk for row in rows}

    assert shown("") == {active.pk, replied.pk, manual.pk}
    assert shown("?status=unenrolled") == {replied.pk, manual.pk}
    assert shown("?status=unenrolled&reason=replied") == {replied.pk}
    assert shown(f"?q={active.email}") == {active.pk}
    response = client.get(url + "?status=bogus")
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert {row.enrollment.pk for row in response.context["rows"]} == {
        active.pk,
        replied.pk,
        manual.pk,
    }


def test_the_counts_for_select_all_matching_are_the_servers(team: Any) -> None:
    alice, bob, boss, sequence = team
    enroll_some(alice, sequence, 3)
    enroll_some(bob, sequence, 2)
    ended = enroll_some(alice, sequence, 1)[0]
    unenroll(enrollment=ended, reason=UnenrollReason.MANUAL, actor=alice)
    url = f"/sequences/{sequence.pk}/enrollments/"
    as_alice = client_for(alice).get(url)
    assert (as_alice.context["matching"], as_alice.context["actionable_matching"]) == (6, 3)
    html = as_alice.content.decode()
    assert 'data-matching="6" data-actionable-matching="3"' in html
    assert "Select all 6 matching" in html
    as_boss = client_for(boss).get(url + "?status=active")
    assert (as_boss.context["matching"], as_boss.context["actionable_matching"]) == (5, 5)


def test_bulk_unenroll_by_ids_ends_exactly_those_with_manual(team: Any) -> None:
    alice, _, _, sequence = team
    chosen = enroll_some(alice, sequence, 3)
    others = enroll_some(alice, sequence, 2)
    before = states()
    response = bulk(client_for(alice), sequence, ids=[e.pk for e in chosen], next="/sequences/?x=1")
    assert response.status_code == 302 and response.url == "/sequences/?x=1"
    assert messages_of(response) == ["Unenrolled 3."]
    for e in chosen:
        e.refresh_from_db()
        assert (e.status, e.reason, e.ended_by) == ("unenrolled", "manual", alice)
        assert e.step_runs.get().state == StepRunState.CANCELLED
    for e in others:
        assert states()[e.pk] == before[e.pk]
    assert Event.objects.filter(kind="unenrolled").count() == 3


def test_bulk_unenroll_all_matching_reapplies_the_filter_on_the_server(team: Any) -> None:
    alice, _, _, sequence = team
    paused_ones = enroll_some(alice, sequence, 3)
    for e in paused_ones:
        pause(enrollment=e, actor=alice)
    active_ones = enroll_some(alice, sequence, 2)
    other_sequence = make_sequence(alice, name="Other")
    elsewhere = enroll_some(alice, other_sequence, 2, domain="other.test")
    response = bulk(
        client_for(alice),
        sequence,
        all_matching="1",
        status="paused",
        reason="",
        q="",
        ids=[active_ones[0].pk],  # all matching wins over the page's ticks
    )
    assert response.status_code == 302
    assert messages_of(response) == ["Unenrolled 3."]
    assert {pk for pk, (s, r) in states().items() if (s, r) == ("unenrolled", "manual")} == {
        e.pk for e in paused_ones
    }
    for e in [*active_ones, *elsewhere]:
        e.refresh_from_db()
        assert e.status == "active"


def test_a_rep_bulk_skips_other_reps_enrollments_and_says_how_many(team: Any) -> None:
    alice, bob, _, sequence = team
    mine = enroll_some(alice, sequence, 2)
    theirs = enroll_some(bob, sequence, 3)
    ended = enroll_some(alice, sequence, 1)
    unenroll(enrollment=ended[0], reason=UnenrollReason.REPLIED)
    response = bulk(client_for(alice), sequence, all_matching="1")
    assert messages_of(response) == [
        "Unenrolled 2; 1 was already ended; 3 belong to other reps and were left."
    ]
    for e in mine:
        e.refresh_from_db()
        assert (e.status, e.reason) == ("unenrolled", "manual")
    for e in theirs:
        e.refresh_from_db()
        assert e.status == "active"
    ended[0].refresh_from_db()
    assert ended[0].reason == "replied", "an ended enrollment keeps its reason"


def test_a_rep_selecting_only_other_reps_enrollments_gets_403_and_nothing_changes(
    team: Any,
) -> None:
    alice, bob, _, sequence = team
    theirs = enroll_some(bob, sequence, 2)
    events = Event.objects.count()
    response = bulk(client_for(alice), sequence, ids=[e.pk for e in theirs])
    assert response.status_code == 403
    assert all(e.status == "active" for e in Enrollment.objects.filter(enrolled_by=bob))
    assert Event.objects.count() == events


def test_a_manager_bulk_unenrolls_everyones(team: Any) -> None:
    alice, bob, boss, sequence = team
    everyone = enroll_some(alice, sequence, 2) + enroll_some(bob, sequence, 2)
    response = bulk(client_for(boss), sequence, ids=[e.pk for e in everyone])
    assert messages_of(response) == ["Unenrolled 4."]
    assert all(e.status == "unenrolled" and e.ended_by == boss for e in Enrollment.objects.all())


def test_unenrolling_twice_reports_already_ended(team: Any) -> None:
    alice, _, _, sequence = team
    chosen = enroll_some(alice, sequence, 2)
    client = client_for(alice)
    first = bulk(client, sequence, ids=[e.pk for e in chosen])
    assert "Unenrolled 2." in client.get(first.url).content.decode()  # shown, so consumed
    events = Event.objects.count()
    response = bulk(client, sequence, ids=[e.pk for e in chosen])
    assert messages_of(response) == ["Unenrolled 0; 2 were already ended."]
    assert Event.objects.count() == events


def test_a_rep_cannot_unenroll_another_reps_enrollment_from_its_row(team: Any) -> None:
    alice, bob, _, sequence = team
    (theirs,) = enroll_some(bob, sequence, 1)
    response = client_for(alice).post(f"/enrollments/{theirs.pk}/unenroll/")
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.status == "active"


@pytest.mark.parametrize(
    "data",
    [
        {"ids": ["abc"]},
        {"ids": ["1; DROP TABLE x"]},
        {"ids": ["-3"]},
        {"ids": ["0"]},
        {"ids": ["²"]},
        {"ids": ["١٢"]},
        {"ids": ["999999"]},
        {"all_matching": "yes"},
        {"all_matching": "1", "status": "gone"},
        {"all_matching": "1", "reason": "because"},
    ],
)
def test_bad_input_changes_nothing_and_says_why(team: Any, data: dict[str, Any]) -> None:
    alice, _, _, sequence = team
    enroll_some(alice, sequence, 2)
    before, events = states(), Event.objects.count()
    response = bulk(client_for(alice), sequence, **data)
    assert response.status_code == 400
    assert "Nothing was unenrolled" in response.content.decode()
    assert states() == before and Event.objects.count() == events


def test_ids_of_another_sequence_are_refused_and_nothing_changes(team: Any) -> None:
    alice, _, _, sequence = team
    (here,) = enroll_some(alice, sequence, 1)
    (there,) = enroll_some(alice, make_sequence(alice, name="Other"), 1, domain="other.test")
    before = states()
    response = bulk(client_for(alice), sequence, ids=[here.pk, there.pk])
    assert response.status_code == 400
    assert f"no enrollment {there.pk} in «Intro»" in response.content.decode()
    assert states() == before


def test_nothing_selected_changes_nothing(team: Any) -> None:
    alice, _, _, sequence = team
    enroll_some(alice, sequence, 1)
    before = states()
    response = bulk(client_for(alice), sequence)
    assert response.status_code == 302
    assert messages_of(response) == ["No enrollment was selected; nothing changed."]
    assert states() == before


def test_bulk_needs_post_and_an_existing_sequence(team: Any) -> None:
    alice, _, _, sequence = team
    client = client_for(alice)
    assert client.get(f"/sequences/{sequence.pk}/enrollments/unenroll/").status_code == 405
    assert client.post("/sequences/999999/enrollments/unenroll/", {"ids": [1]}).status_code == 404


def test_an_outside_next_is_ignored(team: Any) -> None:
    alice, _, _, sequence = team
    (one,) = enroll_some(alice, sequence, 1)
    response = bulk(client_for(alice), sequence, ids=[one.pk], next="https://evil.test/")
    assert response.url == f"/sequences/{sequence.pk}/enrollments/"


def test_the_page_runs_a_constant_number_of_queries(
    team: Any, django_assert_max_num_queries: Any
) -> None:
    alice, bob, _, sequence = team
    enroll_some(alice, sequence, 2)
    client = client_for(alice)
    url = f"/sequences/{sequence.pk}/enrollments/?status=active"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    enroll_some(alice, sequence, 25)
    enroll_some(bob, sequence, 25)
    with django_assert_max_num_queries(len(few)):
        response = client.get(url)
    assert len(response.context["rows"]) == 50
