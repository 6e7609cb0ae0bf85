"""The panel's buttons: Bearer-token actions with the web app's permission checks."""

from typing import Any

import pytest
from django.test import Client

from cadency.accounts.models import ApiToken, User
from cadency.accounts.tokens import authenticate_token, create_token
from cadency.contacts.models import Contact, Suppression, SuppressionReason
from cadency.ledger.models import Event
from cadency.sequences.models import Enrollment, Sequence, StepRunState
from cadency.sequences.services.enrollment import pause
from tests.factories import make_sequence
from tests.sidebar.conftest import bearer

pytestmark = pytest.mark.django_db

State = tuple[str, str, int | None]


def state(enrollment: Enrollment) -> State:
    enrollment.refresh_from_db()
    return (enrollment.status, enrollment.reason, enrollment.ended_by_id)


def post(client: Client, path: str, data: dict[str, Any] | None = None) -> tuple[int, str]:
    response = client.post(path, data or {})
    return response.status_code, response.content.decode()


def test_unenrolling_with_a_token_ends_the_enrollment_as_its_user(
    alice: User, enrollment: Enrollment
) -> None:
    status, html = post(
        bearer(alice),
        f"/sidebar/enrollments/{enrollment.pk}/unenroll/",
        {"email": "jane@acme.test"},
    )
    assert status == 200
    assert state(enrollment) == ("unenrolled", "manual", alice.pk)
    assert not enrollment.step_runs.filter(state=StepRunState.SCHEDULED).exists()
    event = Event.objects.get(kind="unenrolled")
    assert event.actor == alice and "Alice Archer unenrolled Jane Doe" in event.sentence
    assert "Unenrolled Jane Doe (jane@acme.test) from «Intro»." in html
    assert html.lstrip().startswith("<article") and "Enrolled in" not in html
    assert "Enroll in a sequence" in html


def test_unenrolling_an_ended_enrollment_changes_nothing(
    alice: User, enrollment: Enrollment
) -> None:
    client = bearer(alice)
    post(client, f"/sidebar/enrollments/{enrollment.pk}/unenroll/")
    status, html = post(client, f"/sidebar/enrollments/{enrollment.pk}/unenroll/")
    assert status == 200 and "already unenrolled in «Intro»; nothing changed" in html
    assert Event.objects.filter(kind="unenrolled").count() == 1


@pytest.mark.parametrize("action", ["unenroll", "pause", "resume"])
def test_a_rep_cannot_act_on_another_reps_enrollment(
    bob: User, enrollment: Enrollment, action: str
) -> None:
    if action == "resume":
        pause(enrollment=enrollment, actor=None)
    client = bearer(bob)
    before = state(enrollment), Event.objects.count()

    status, html = post(client, f"/sidebar/enrollments/{enrollment.pk}/{action}/")

    assert status == 403
    assert "Not allowed: enrollment" in html and "a rep may only act on their own" in html
    assert (state(enrollment), Event.objects.count()) == before
    assert enrollment.step_runs.filter(state=StepRunState.SCHEDULED).count() == 1


def test_a_manager_may_unenroll_a_reps_enrollment(manager: User, enrollment: Enrollment) -> None:
    status, _ = post(bearer(manager), f"/sidebar/enrollments/{enrollment.pk}/unenroll/")
    assert status == 200 and state(enrollment) == ("unenrolled", "manual", manager.pk)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer cdy_12345678_not-a-real-token"}, {"Authorization": "Token x"}],
)
def test_without_a_valid_token_nothing_changes(
    enrollment: Enrollment, headers: dict[str, str]
) -> None:
    before = state(enrollment)
    for action in ("unenroll", "pause"):
        response = Client(headers=headers).post(f"/sidebar/enrollments/{enrollment.pk}/{action}/")
        assert response.status_code == 401 and "Connect to Cadency" in response.content.decode()
    assert state(enrollment) == before
    assert not Event.objects.filter(kind__in=["unenrolled", "paused"]).exists()


def test_a_signed_in_session_without_a_token_is_refused(
    alice: User, enrollment: Enrollment
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(f"/sidebar/enrollments/{enrollment.pk}/unenroll/")
    assert response.status_code == 401 and state(enrollment) == ("active", "", None)


def test_pausing_and_resuming(alice: User, enrollment: Enrollment) -> None:
    client = bearer(alice)
    status, html = post(client, f"/sidebar/enrollments/{enrollment.pk}/pause/")
    assert status == 200 and state(enrollment)[0] == "paused"
    assert "Paused Jane Doe" in html and ">Resume</button>" in html
    status, html = post(client, f"/sidebar/enrollments/{enrollment.pk}/resume/")
    assert status == 200 and state(enrollment)[0] == "active"
    assert "Resumed Jane Doe" in html
    actors = Event.objects.filter(kind__in=["paused", "resumed"]).values_list("actor", flat=True)
    assert list(actors) == [alice.pk, alice.pk]


def test_an_unknown_enrollment_is_404(alice: User) -> None:
    status, html = post(bearer(alice), "/sidebar/enrollments/999999/unenroll/")
    assert status == 404 and "Enrollment 999999 does not exist." in html
    status, html = post(
        bearer(alice), "/sidebar/enrollments/999999/unenroll/", {"email": "jane@acme.test"}
    )
    assert status == 404 and "data-card" in html


def test_actions_answer_only_post(alice: User, enrollment: Enrollment) -> None:
    response = bearer(alice).get(f"/sidebar/enrollments/{enrollment.pk}/unenroll/")
    assert response.status_code == 405 and state(enrollment) == ("active", "", None)


def test_creating_a_contact_from_an_unknown_address(alice: User) -> None:
    status, html = post(
        bearer(alice),
        "/sidebar/contacts/",
        {"email": "Newcomer@Acme.test", "first_name": "Nia", "last_name": "New"},
    )
    assert status == 200 and "Created the contact newcomer@acme.test." in html
    contact = Contact.objects.get(email="newcomer@acme.test")
    assert (contact.first_name, contact.last_name) == ("Nia", "New")
    assert Event.objects.get(kind="contact_created").actor == alice
    assert "Nia New" in html and "Not in Cadency yet." not in html


def test_creating_an_existing_contact_changes_nothing(alice: User, jane: Contact) -> None:
    status, html = post(
        bearer(alice), "/sidebar/contacts/", {"email": "jane@acme.test", "first_name": "X"}
    )
    assert status == 200 and "already a contact; nothing changed" in html
    jane.refresh_from_db()
    assert jane.first_name == "Jane"
    assert not Event.objects.filter(kind__in=["contact_created", "contact_updated"]).exists()


def test_creating_a_contact_with_a_bad_address_is_refused(alice: User) -> None:
    status, html = post(bearer(alice), "/sidebar/contacts/", {"email": "no-at-sign"})
    assert status == 400 and "is not a valid email address" in html
    assert not Contact.objects.exists()


def test_creating_a_contact_needs_a_token() -> None:
    status, _ = post(Client(), "/sidebar/contacts/", {"email": "newcomer@acme.test"})
    assert status == 401 and not Contact.objects.exists()


@pytest.fixture
def call_first(alice: User) -> Sequence:
    """A sequence whose first step is a call task: enrolling sends no email now."""
    return make_sequence(
        alice,
        name="Call first",
        steps=[
            {"type": "call", "title": "Call {{ contact.first_name }}"},
            {"type": "automated_email", "delay": 2, "subject": "Hi", "body": "Following up."},
        ],
    )


def test_enrolling_a_contact_as_the_tokens_user(
    alice: User, jane: Contact, call_first: Sequence
) -> None:
    status, html = post(
        bearer(alice), f"/sidebar/contacts/{jane.pk}/enroll/", {"sequence": call_first.pk}
    )
    assert status == 200, html
    enrollment = Enrollment.objects.get()
    assert (enrollment.contact, enrollment.sequence, enrollment.enrolled_by) == (
        jane,
        call_first,
        alice,
    )
    assert "Enrolled Jane Doe (jane@acme.test) in «Call first»" in html
    assert "Enrolled in «Call first»" in html


def test_an_enrollment_refused_by_the_rules_writes_nothing(
    alice: User, jane: Contact, call_first: Sequence
) -> None:
    Suppression.objects.create(email="jane@acme.test", reason=SuppressionReason.UNSUBSCRIBED)
    status, html = post(
        bearer(alice), f"/sidebar/contacts/{jane.pk}/enroll/", {"sequence": call_first.pk}
    )
    assert status == 400 and "Not enrolled: jane@acme.test is suppressed" in html
    assert not Enrollment.objects.exists()


@pytest.mark.parametrize("sequence", ["", "999999", "abc"])
def test_enrolling_needs_an_existing_sequence(alice: User, jane: Contact, sequence: str) -> None:
    status, html = post(
        bearer(alice), f"/sidebar/contacts/{jane.pk}/enroll/", {"sequence": sequence}
    )
    assert status == 400 and 'role="alert"' in html
    assert not Enrollment.objects.exists()


def test_enrolling_an_unknown_contact_is_404(alice: User, call_first: Sequence) -> None:
    status, html = post(
        bearer(alice), "/sidebar/contacts/999999/enroll/", {"sequence": call_first.pk}
    )
    assert status == 404 and "Contact 999999 does not exist." in html


def test_disconnecting_revokes_the_panels_token(alice: User) -> None:
    issued = create_token(user=alice, name="Gmail sidebar")
    other = create_token(user=alice, name="CRM sync")
    status, html = post(bearer(issued.secret), "/sidebar/disconnect/")
    assert status == 200 and "Disconnected." in html
    assert authenticate_token(issued.secret) is None
    assert authenticate_token(other.secret) == alice
    assert ApiToken.objects.get(pk=issued.token.pk).revoked_at is not None
