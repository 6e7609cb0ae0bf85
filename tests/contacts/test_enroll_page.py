"""Enrolling from the contact record: choices, the forecast, refusals that write nothing."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.models import Suppression
from cadency.ledger.models import Event
from cadency.mailboxes.models import Health, Mailbox
from cadency.sequences.models import Enrollment, Sequence, StepRun, StepRunState, Task
from cadency.sequences.services.lifecycle import delete_sequence
from tests.contacts.support import enrolled, signed_in
from tests.factories import make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db

TASK_FIRST: list[dict[str, Any]] = [
    {"type": "call", "title": 'Call {{ contact.first_name | "them" }}'},
    {"type": "automated_email", "delay": 2, "subject": "Following up", "body": "Hi there."},
]


def counts() -> tuple[int, int, int, int]:
    return (
        Enrollment.objects.count(),
        StepRun.objects.count(),
        Task.objects.count(),
        Event.objects.count(),
    )


def later(days: int = 3) -> str:
    """A start time as the browser's datetime-local field sends it (wall clock)."""
    return (timezone.now() + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def mailbox_of(user: User) -> Mailbox:
    found = user.mailboxes.first()
    assert found is not None
    return found


def choices(sequence: Sequence, **extra: Any) -> dict[str, Any]:
    return {"sequence": sequence.pk, "start_step": 1, "mailbox": "", "start_at": "", **extra}


def test_the_page_offers_live_sequences_my_mailboxes_and_forecasts_every_step(
    alice: User, bob: User, sequence: Sequence
) -> None:
    archived = make_sequence(alice, name="Old campaign")
    delete_sequence(sequence=archived, actor=alice)
    other = make_mailbox(alice, email="alice.two@example.test")
    jane = make_contact("jane@acme.test")
    response = signed_in(alice).get(f"/contacts/{jane.pk}/enroll/")
    page = response.content.decode()
    assert response.status_code == 200
    assert f'<option value="{sequence.pk}" selected>Intro</option>' in page
    assert "Old campaign" not in page
    assert "alice.two@example.test" in page and f'value="{other.pk}"' in page
    assert f'value="{mailbox_of(bob).pk}"' not in page, "only my own mailboxes"
    assert "Send-time forecast" in page
    assert page.count("<time datetime=") == 2, "one row per step"
    assert "Quick question, {{ contact.first_name }}" in page
    assert f'hx-get="/contacts/{jane.pk}/enroll/forecast/"' in page


def test_the_forecast_partial_follows_the_choices(alice: User) -> None:
    sequence = make_sequence(alice, name="Task first", steps=TASK_FIRST)
    jane = make_contact("jane@acme.test", time_zone="America/New_York")
    start = later()
    response = signed_in(alice).get(
        f"/contacts/{jane.pk}/enroll/forecast/", choices(sequence, start_at=start)
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page, "a fragment for htmx"
    assert "Call task" in page and "Following up" in page
    assert "times in America/New_York" in page
    expected = dt.datetime.strptime(start, "%Y-%m-%dT%H:%M").replace(
        tzinfo=ZoneInfo("America/New_York")
    )
    assert expected.strftime("%Y-%m-%d %H:%M") in page, "read in the contact's time zone"


def test_the_forecast_starts_at_the_chosen_step(alice: User, sequence: Sequence) -> None:
    jane = make_contact("jane@acme.test")
    page = (
        signed_in(alice)
        .get(f"/contacts/{jane.pk}/enroll/forecast/", choices(sequence, start_step=2))
        .content.decode()
    )
    assert page.count("<time datetime=") == 1


def test_preview_shows_the_forecast_and_writes_nothing(alice: User, sequence: Sequence) -> None:
    jane = make_contact("jane@acme.test")
    before = counts()
    response = signed_in(alice).post(
        f"/contacts/{jane.pk}/enroll/", {**choices(sequence), "preview": "1"}
    )
    assert response.status_code == 200
    assert response.content.decode().count("<time datetime=") == 2
    assert counts() == before


def test_the_preview_warns_of_a_refusal_before_submitting(alice: User, sequence: Sequence) -> None:
    jane = make_contact("jane@acme.test")
    Suppression.objects.create(email="jane@acme.test", reason="unsubscribed")
    page = signed_in(alice).get(f"/contacts/{jane.pk}/enroll/").content.decode()
    assert "Cadency would refuse:" in page and "<code>suppressed</code>" in page


def test_enrolling_with_a_later_start_schedules_the_first_step_and_returns_to_the_record(
    alice: User, sequence: Sequence
) -> None:
    second = make_mailbox(alice, email="alice.two@example.test")
    jane = make_contact("jane@acme.test", time_zone="Europe/Paris")
    start = later(days=2)
    client = signed_in(alice)
    response = client.post(
        f"/contacts/{jane.pk}/enroll/",
        choices(sequence, start_step=2, mailbox=second.pk, start_at=start),
    )
    assert (response.status_code, response["Location"]) == (302, f"/contacts/{jane.pk}/")
    enrollment = Enrollment.objects.get()
    assert (enrollment.contact, enrollment.sequence, enrollment.enrolled_by) == (
        jane,
        sequence,
        alice,
    )
    assert (enrollment.mailbox, enrollment.current_position) == (second, 2)
    run = StepRun.objects.get()
    assert (run.position, run.state) == (2, StepRunState.SCHEDULED)
    wall_clock = dt.datetime.strptime(start, "%Y-%m-%dT%H:%M").replace(
        tzinfo=ZoneInfo("Europe/Paris")
    )
    assert run.due_at == wall_clock
    page = client.get(f"/contacts/{jane.pk}/").content.decode()
    assert "Enrolled Jane Doe (jane@acme.test) in «Intro» from alice.two@example.test." in page
    assert "Enrolled in «" in page


def test_enrolling_now_runs_the_first_step_at_once(alice: User) -> None:
    sequence = make_sequence(alice, name="Task first", steps=TASK_FIRST)
    jane = make_contact("jane@acme.test")
    client = signed_in(alice)
    response = client.post(f"/contacts/{jane.pk}/enroll/", choices(sequence))
    assert response.status_code == 302
    task = Task.objects.get()
    assert (task.contact, task.assignee, task.title) == (jane, alice, "Call Jane")
    assert StepRun.objects.get(position=1).state == StepRunState.DONE
    page = client.get(f"/contacts/{jane.pk}/").content.decode()
    assert "Step 1: done." in page


@pytest.mark.parametrize(
    ("prepare", "code", "message"),
    [
        (
            lambda jane, seq, user: Suppression.objects.create(
                email=jane.email, reason="unsubscribed"
            ),
            "suppressed",
            "jane@acme.test is suppressed (unsubscribed on",
        ),
        (
            lambda jane, seq, user: enrolled(jane, make_sequence(user, name="Earlier"), user),
            "already_enrolled",
            "jane@acme.test is already active in the sequence &#x27;Earlier&#x27;",
        ),
        (
            lambda jane, seq, user: user.mailboxes.update(health=Health.FAILING),
            "no_working_mailbox",
            "Alice Archer has no working mailbox: connect one first",
        ),
    ],
    ids=["suppressed", "already_enrolled", "no_working_mailbox"],
)
def test_a_refusal_shows_its_specific_reason_and_writes_nothing(
    alice: User, sequence: Sequence, prepare: Any, code: str, message: str
) -> None:
    jane = make_contact("jane@acme.test")
    prepare(jane, sequence, alice)
    before = counts()
    response = signed_in(alice).post(f"/contacts/{jane.pk}/enroll/", choices(sequence))
    page = response.content.decode()
    assert response.status_code == 400
    assert "Not enrolled:" in page
    assert "Cadency would refuse:" not in page, "the reason is shown once"
    assert message in page
    assert f"<code>{code}</code>" in page
    assert counts() == before


def test_a_missing_token_is_refused_with_the_step_that_needs_it(
    alice: User, sequence: Sequence
) -> None:
    nameless = make_contact("info@acme.test", first_name="", last_name="")
    before = counts()
    response = signed_in(alice).post(f"/contacts/{nameless.pk}/enroll/", choices(sequence))
    page = response.content.decode()
    assert response.status_code == 400
    assert "<code>missing_token</code>" in page and "step 1:" in page
    assert counts() == before


def test_a_start_step_past_the_last_is_refused(alice: User, sequence: Sequence) -> None:
    jane = make_contact("jane@acme.test")
    before = counts()
    response = signed_in(alice).post(
        f"/contacts/{jane.pk}/enroll/", choices(sequence, start_step=5, start_at=later())
    )
    assert response.status_code == 400
    assert "there is no step 5: the sequence has 2 steps" in response.content.decode()
    assert counts() == before


def test_a_user_without_a_mailbox_is_told_to_connect_one(sequence: Sequence) -> None:
    carol = make_user("carol", first_name="Carol", last_name="Cole")
    jane = make_contact("jane@acme.test")
    client = signed_in(carol)
    page = client.get(f"/contacts/{jane.pk}/enroll/").content.decode()
    assert "Connect a working" in page
    response = client.post(f"/contacts/{jane.pk}/enroll/", choices(sequence))
    assert response.status_code == 400
    assert "Carol Cole has no working mailbox" in response.content.decode()
    assert Enrollment.objects.count() == 0


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ({"mailbox": "other"}, "Choose one of your own mailboxes."),
        ({"sequence": "archived"}, "Choose one of the sequences listed (not a deleted one)."),
        ({"sequence": "999999"}, "Choose one of the sequences listed"),
        ({"start_step": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"start_step": "two"}, "Enter a whole number."),
        ({"start_at": "yesterday"}, "Enter a valid date/time."),
        ({"start_at": "2001-01-01T09:00"}, "Choose a time in the future"),
    ],
)
def test_bad_choices_are_refused_on_the_form_and_write_nothing(
    alice: User, bob: User, sequence: Sequence, bad: dict[str, str], error: str
) -> None:
    jane = make_contact("jane@acme.test")
    archived = make_sequence(alice, name="Gone")
    delete_sequence(sequence=archived, actor=alice)
    values = {"other": str(mailbox_of(bob).pk), "archived": str(archived.pk)}
    data = choices(sequence) | {k: values.get(v, v) for k, v in bad.items()}
    before = counts()
    response = signed_in(alice).post(f"/contacts/{jane.pk}/enroll/", data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert counts() == before


def test_enrolling_an_unknown_contact_is_not_found(alice: User, sequence: Sequence) -> None:
    client = signed_in(alice)
    assert client.get("/contacts/999999/enroll/").status_code == 404
    assert client.post("/contacts/999999/enroll/", choices(sequence)).status_code == 404
    assert client.get("/contacts/999999/enroll/forecast/").status_code == 404
    assert Enrollment.objects.count() == 0


def test_with_no_sequence_yet_the_page_says_so(alice: User) -> None:
    jane = make_contact("jane@acme.test")
    page = signed_in(alice).get(f"/contacts/{jane.pk}/enroll/").content.decode()
    assert "There is no sequence to enroll in yet" in page
