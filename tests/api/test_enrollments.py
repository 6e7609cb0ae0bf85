"""/enrollments: list with filters, enroll (refusals as codes), unenroll one and in
bulk, pause and resume; reps act only on what they enrolled."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.models import Suppression
from cadency.ledger.models import Event
from cadency.sequences.models import Enrollment, EnrollmentStatus, StepRunState, Task, TaskStatus
from tests.api.support import Api, enrolled, error_of, snapshot, task_first_sequence
from tests.factories import make_contact, make_sequence

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices(alice: User) -> list[Enrollment]:
    sequence = task_first_sequence(alice)
    return [enrolled(alice, sequence, make_contact(f"a{i}@acme.test")) for i in range(3)]


@pytest.fixture
def bobs(bob: User) -> list[Enrollment]:
    sequence = task_first_sequence(bob, name="Bob's")
    return [enrolled(bob, sequence, make_contact(f"b{i}@beta.test")) for i in range(2)]


# --- list and get -------------------------------------------------------------------


def test_it_lists_every_enrollment_newest_first_with_a_count(
    as_alice: Api, alices: list[Enrollment], bobs: list[Enrollment]
) -> None:
    response = as_alice.get("/enrollments")
    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 5 and (page["limit"], page["offset"]) == (50, 0)
    ids = [item["id"] for item in page["items"]]
    assert ids == sorted(ids, reverse=True), "reps see everyone's, newest first"
    first = page["items"][0]
    assert first["enrolled_by"]["username"] == "bob"
    assert first["status"] == "active" and first["reason"] is None
    assert first["contact"]["email"] == first["email"]


def test_it_filters_like_the_enrollments_tab(
    as_alice: Api, alice: User, alices: list[Enrollment], bobs: list[Enrollment]
) -> None:
    alices[0].status = EnrollmentStatus.UNENROLLED
    alices[0].reason = "replied"
    alices[0].save()
    mine = as_alice.get("/enrollments", enrolled_by=alice.pk).json()
    assert {i["id"] for i in mine["items"]} == {e.pk for e in alices}
    replied = as_alice.get("/enrollments", reason="replied").json()
    assert [i["id"] for i in replied["items"]] == [alices[0].pk]
    several = as_alice.get("/enrollments", status=["active", "paused"]).json()
    assert several["count"] == 4
    found = as_alice.get("/enrollments", search="b1@").json()
    assert [i["email"] for i in found["items"]] == ["b1@beta.test"]
    by_ids = as_alice.get("/enrollments", ids=[alices[1].pk, bobs[0].pk]).json()
    assert by_ids["count"] == 2


def test_it_pages_with_limit_and_offset(as_alice: Api, alices: list[Enrollment]) -> None:
    first = as_alice.get("/enrollments", limit=2).json()
    second = as_alice.get("/enrollments", limit=2, offset=2).json()
    assert first["count"] == second["count"] == 3
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert {i["id"] for i in first["items"] + second["items"]} == {e.pk for e in alices}


@pytest.mark.parametrize(
    "params",
    [
        {"status": "asleep"},
        {"reason": "bored"},
        {"sequence": "one"},
        {"limit": 0},
        {"limit": 501},
        {"offset": -1},
        {"enrolled_by": 0},
    ],
)
def test_a_bad_filter_is_invalid(as_alice: Api, alices: list[Enrollment], params: Any) -> None:
    message = error_of(as_alice.get("/enrollments", **params), 400, "invalid")
    assert next(iter(params)) in message


def test_a_filter_naming_an_unknown_object_is_not_found(as_alice: Api) -> None:
    assert "sequence" in error_of(as_alice.get("/enrollments", sequence=999), 404, "not_found")


def test_it_shows_one_enrollment_with_its_step_runs(
    as_alice: Api, alices: list[Enrollment]
) -> None:
    body = as_alice.get(f"/enrollments/{alices[0].pk}").json()
    assert body["id"] == alices[0].pk
    assert [(r["position"], r["state"]) for r in body["step_runs"]] == [
        (1, StepRunState.DONE),
        (2, StepRunState.SCHEDULED),
    ]


def test_an_unknown_enrollment_is_not_found(as_alice: Api) -> None:
    assert "enrollment" in error_of(as_alice.get("/enrollments/424242"), 404, "not_found")


# --- enroll ---------------------------------------------------------------------------


def test_it_enrolls_as_the_token_owner_and_runs_the_first_step(as_alice: Api, alice: User) -> None:
    sequence = task_first_sequence(alice)
    contact = make_contact("jane@acme.test")
    response = as_alice.post("/enrollments", {"contact": contact.pk, "sequence": sequence.pk})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "active" and body["enrolled_by"]["username"] == "alice"
    assert body["step_runs"][0]["state"] == StepRunState.DONE
    assert Task.objects.get(contact=contact).assignee == alice
    assert Event.objects.filter(kind="enrolled", enrollment_id=body["id"], actor=alice).exists()


def test_it_enrolls_from_a_chosen_step_at_a_later_time(as_alice: Api, alice: User) -> None:
    sequence = make_sequence(alice)
    contact = make_contact("jane@acme.test")
    start = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)
    response = as_alice.post(
        "/enrollments",
        {
            "contact": contact.pk,
            "sequence": sequence.pk,
            "mailbox": alice.mailboxes.get().pk,
            "start_step": 2,
            "start_at": start.isoformat(),
        },
    )
    assert response.status_code == 201, response.content
    run = response.json()["step_runs"][0]
    assert (run["position"], run["state"]) == (2, "scheduled")
    assert dt.datetime.fromisoformat(run["due_at"]) == start


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("suppressed", "suppressed"),
        ("already", "already_enrolled"),
        ("no_mailbox", "no_working_mailbox"),
        ("bad_step", "invalid_start_step"),
        ("missing_token", "missing_token"),
        ("deleted", "sequence_archived"),
    ],
)
def test_a_refused_enrollment_answers_its_refusal_code_and_writes_nothing(
    as_alice: Api, alice: User, bob: User, setup: str, code: str
) -> None:
    sequence = task_first_sequence(alice)
    contact = make_contact("jane@acme.test", first_name="")
    body: dict[str, Any] = {"contact": contact.pk, "sequence": sequence.pk}
    match setup:
        case "suppressed":
            Suppression.objects.create(email=contact.email, reason="unsubscribed")
        case "already":
            enrolled(bob, task_first_sequence(bob, "Other"), contact)
        case "no_mailbox":
            body["mailbox"] = bob.mailboxes.get().pk
        case "bad_step":
            body["start_step"] = 3
        case "missing_token":
            body["sequence"] = make_sequence(
                alice, steps=[{"type": "call", "title": "Call {{ contact.first_name }}"}]
            ).pk
        case "deleted":
            sequence.archived_at = timezone.now()
            sequence.save()
    before = snapshot()
    error_of(as_alice.post("/enrollments", body), 422, code)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"contact": 999, "sequence": "SEQ"}, 404, "not_found"),
        ({"contact": "CONTACT", "sequence": 999}, 404, "not_found"),
        ({"contact": "CONTACT"}, 400, "invalid"),
        ({"contact": "CONTACT", "sequence": "SEQ", "start_step": 0}, 400, "invalid"),
        ({"contact": "CONTACT", "sequence": "SEQ", "start_at": "tomorrow"}, 400, "invalid"),
        (
            {"contact": "CONTACT", "sequence": "SEQ", "start_at": "2001-01-01T00:00Z"},
            400,
            "invalid",
        ),
        ({"contact": "CONTACT", "sequence": "SEQ", "start_at": "2031-01-01T09:00"}, 400, "invalid"),
        ({"contact": "CONTACT", "sequence": "SEQ", "mailbox": 999}, 404, "not_found"),
    ],
)
def test_bad_enroll_input_gets_a_specific_error_and_writes_nothing(
    as_alice: Api, alice: User, body: dict[str, Any], status: int, code: str
) -> None:
    sequence = task_first_sequence(alice)
    contact = make_contact("jane@acme.test")
    values = {"CONTACT": contact.pk, "SEQ": sequence.pk}
    body = {k: values.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    before = snapshot()
    error_of(as_alice.post("/enrollments", body), status, code)
    assert snapshot() == before


def test_a_malformed_body_is_invalid(as_alice: Api) -> None:
    response = as_alice.client.post(
        "/api/v1/enrollments", "{not json", content_type="application/json"
    )
    error_of(response, 400, "invalid")


# --- one enrollment: unenroll, pause, resume ---------------------------------------


def test_a_rep_unenrolls_their_own_enrollment(
    as_alice: Api, alice: User, alices: list[Enrollment]
) -> None:
    target = alices[0]
    response = as_alice.post(f"/enrollments/{target.pk}/unenroll")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["changed"] is True
    assert (body["enrollment"]["status"], body["enrollment"]["reason"]) == ("unenrolled", "manual")
    assert body["enrollment"]["ended_by"]["username"] == "alice"
    target.refresh_from_db()
    assert target.status == EnrollmentStatus.UNENROLLED
    assert Task.objects.filter(step_run__enrollment=target).get().status == TaskStatus.CANCELLED
    assert Event.objects.filter(kind="unenrolled", enrollment=target, actor=alice).count() == 1
    assert all(e.status == "active" for e in Enrollment.objects.exclude(pk=target.pk))


def test_unenrolling_twice_changes_nothing_the_second_time(
    as_alice: Api, alices: list[Enrollment]
) -> None:
    as_alice.post(f"/enrollments/{alices[0].pk}/unenroll")
    before = snapshot()
    response = as_alice.post(f"/enrollments/{alices[0].pk}/unenroll")
    assert response.status_code == 200 and response.json()["changed"] is False
    assert snapshot() == before


@pytest.mark.parametrize("action", ["unenroll", "pause", "resume"])
def test_a_rep_cannot_act_on_another_reps_enrollment(
    as_alice: Api, bobs: list[Enrollment], action: str
) -> None:
    if action == "resume":
        as_bob_pause(bobs[0])
    before = snapshot()
    message = error_of(as_alice.post(f"/enrollments/{bobs[0].pk}/{action}"), 403, "forbidden")
    assert "another user" in message
    assert snapshot() == before


def as_bob_pause(enrollment: Enrollment) -> None:
    from cadency.sequences.services.enrollment import pause

    pause(enrollment=enrollment, actor=enrollment.enrolled_by)


@pytest.mark.parametrize("action", ["unenroll", "pause", "resume"])
def test_acting_on_an_unknown_enrollment_is_not_found(as_alice: Api, action: str) -> None:
    error_of(as_alice.post(f"/enrollments/424242/{action}"), 404, "not_found")


def test_a_manager_unenrolls_a_reps_enrollment(as_maya: Api, bobs: list[Enrollment]) -> None:
    response = as_maya.post(f"/enrollments/{bobs[0].pk}/unenroll")
    assert response.status_code == 200 and response.json()["changed"] is True
    bobs[0].refresh_from_db()
    assert (bobs[0].status, bobs[0].ended_by.username) == ("unenrolled", "maya")


def test_pause_then_resume(as_alice: Api, alices: list[Enrollment]) -> None:
    target = alices[0].pk
    paused = as_alice.post(f"/enrollments/{target}/pause").json()
    assert paused["changed"] is True and paused["enrollment"]["status"] == "paused"
    again = as_alice.post(f"/enrollments/{target}/pause").json()
    assert again["changed"] is False
    resumed = as_alice.post(f"/enrollments/{target}/resume").json()
    assert resumed["changed"] is True and resumed["enrollment"]["status"] == "active"
    kinds = list(Event.objects.filter(enrollment_id=target).values_list("kind", flat=True))
    assert kinds[-2:] == ["paused", "resumed"]


# --- bulk unenroll --------------------------------------------------------------------


def test_bulk_unenroll_by_ids_ends_exactly_those(as_alice: Api, alices: list[Enrollment]) -> None:
    chosen = [alices[0].pk, alices[1].pk]
    response = as_alice.post("/enrollments/unenroll", {"ids": chosen})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "selected": 2,
        "ended": 2,
        "already_ended": 0,
        "refused_count": 0,
        "refused": [],
    }
    statuses = dict(Enrollment.objects.values_list("pk", "status"))
    assert [statuses[e.pk] for e in alices] == ["unenrolled", "unenrolled", "active"]
    assert set(Enrollment.objects.filter(pk__in=chosen).values_list("reason", flat=True)) == {
        "manual"
    }


def test_bulk_unenroll_counts_the_already_ended_and_refuses_another_reps(
    as_alice: Api, alices: list[Enrollment], bobs: list[Enrollment]
) -> None:
    as_alice.post(f"/enrollments/{alices[0].pk}/unenroll")
    ids = [alices[0].pk, alices[1].pk, bobs[0].pk]
    body = as_alice.post("/enrollments/unenroll", {"ids": ids}).json()
    assert (body["selected"], body["ended"], body["already_ended"]) == (3, 1, 1)
    assert body["refused_count"] == 1
    assert body["refused"] == [
        {
            "id": bobs[0].pk,
            "email": "b0@beta.test",
            "sequence": "Bob's",
            "enrolled_by": "bob",
        }
    ]
    bobs[0].refresh_from_db()
    assert bobs[0].status == "active", "another rep's enrollment is left unchanged"


def test_bulk_unenroll_by_filter_ends_the_matching_open_enrollments(
    as_maya: Api, alices: list[Enrollment], bobs: list[Enrollment]
) -> None:
    sequence = alices[0].sequence_id
    body = as_maya.post("/enrollments/unenroll", {"filter": {"sequence": sequence}}).json()
    assert (body["selected"], body["ended"], body["refused_count"]) == (3, 3, 0)
    assert set(
        Enrollment.objects.filter(sequence_id=sequence).values_list("status", flat=True)
    ) == {"unenrolled"}
    assert set(
        Enrollment.objects.filter(pk__in=[b.pk for b in bobs]).values_list("status", flat=True)
    ) == {"active"}


def test_a_rep_bulk_unenrolling_a_sequence_ends_only_their_own(
    as_alice: Api, alice: User, bob: User
) -> None:
    sequence = task_first_sequence(alice)
    mine = enrolled(alice, sequence, make_contact("mine@acme.test"))
    theirs = enrolled(bob, sequence, make_contact("theirs@acme.test"))
    body = as_alice.post("/enrollments/unenroll", {"filter": {"sequence": sequence.pk}}).json()
    assert (body["ended"], body["refused_count"]) == (1, 1)
    assert [r["id"] for r in body["refused"]] == [theirs.pk]
    assert dict(Enrollment.objects.values_list("pk", "status")) == {
        mine.pk: "unenrolled",
        theirs.pk: "active",
    }


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid"),
        ({"ids": [1], "filter": {"sequence": 1}}, 400, "invalid"),
        ({"ids": []}, 400, "invalid"),
        ({"ids": ["x"]}, 400, "invalid"),
        ({"filter": {}}, 400, "invalid"),
        ({"filter": {"status": ["active"]}}, 400, "invalid"),
        ({"filter": {"status": ["asleep"], "sequence": 1}}, 400, "invalid"),
        ({"filter": {"colour": "red"}}, 400, "invalid"),
        ({"filter": {"sequence": 999}}, 404, "not_found"),
        ({"ids": "KNOWN+UNKNOWN"}, 404, "not_found"),
    ],
)
def test_bad_bulk_input_gets_a_specific_error_and_changes_nothing(
    as_maya: Api, alices: list[Enrollment], body: dict[str, Any], status: int, code: str
) -> None:
    if body.get("ids") == "KNOWN+UNKNOWN":
        body = {"ids": [alices[0].pk, 424242]}
    before = snapshot()
    message = error_of(as_maya.post("/enrollments/unenroll", body), status, code)
    if status == 404 and "ids" in body:
        assert "424242" in message and "nothing was changed" in message
    assert snapshot() == before
