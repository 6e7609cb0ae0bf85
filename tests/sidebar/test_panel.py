"""The panel fragment: what the sidebar shows for the recipients of a message."""

import pytest
from django.test import Client

from cadency.accounts.models import User
from cadency.accounts.tokens import create_token, revoke_token
from cadency.contacts.models import Contact
from cadency.contacts.services import add_alias
from cadency.ledger.services import record_event
from cadency.sequences.models import Enrollment, Sequence
from cadency.sequences.services.enrollment import pause
from cadency.sequences.services.lifecycle import delete_sequence
from cadency.sidebar.panel import MAX_ADDRESSES, parse_addresses
from tests.factories import make_contact, make_sequence
from tests.sidebar.conftest import bearer, enrolled_later

pytestmark = pytest.mark.django_db


def panel(client: Client, *emails: str) -> tuple[int, str]:
    response = client.get("/sidebar/panel/", {"emails": ",".join(emails)})
    return response.status_code, response.content.decode()


def test_a_known_contact_shows_its_profile_and_its_enrollment(
    alice: User, jane: Contact, enrollment: Enrollment
) -> None:
    record_event(kind="note", contact=jane, actor=alice, sentence="Alice called Jane.")
    status, html = panel(bearer(alice), "jane@acme.test")
    assert status == 200
    assert "Connected as <strong>Alice Archer</strong>" in html
    assert f'href="/contacts/{jane.pk}/"' in html and "Jane Doe" in html
    assert "<dd>Acme</dd>" in html and "<dd>Alice Archer</dd>" in html
    assert "Alice called Jane." in html
    assert "Enrolled in «Intro»" in html and "Step 1 of 2" in html
    run = enrollment.step_runs.get()
    assert f'Next: step 1 at <time datetime="{run.due_at.isoformat()}' in html
    assert f"/sidebar/enrollments/{enrollment.pk}/unenroll/" in html
    assert "Unenroll from sequence" in html and ">Pause</button>" in html
    assert "Enroll in a sequence" not in html


def test_an_alias_shows_the_contact_it_belongs_to(
    alice: User, jane: Contact, enrollment: Enrollment
) -> None:
    add_alias(contact=jane, email="jane.doe@acme.test")
    status, html = panel(bearer(alice), "Jane.Doe@acme.test")
    assert status == 200
    assert "jane.doe@acme.test" in html and "an additional address of jane.doe@acme.test" in html
    assert "Jane Doe" in html and "Enrolled in «Intro»" in html


def test_the_same_mailbox_written_differently_shows_the_contact(alice: User, jane: Contact) -> None:
    status, html = panel(bearer(alice), "jane+news@acme.test")
    assert status == 200
    assert "Jane Doe" in html and "with a +tag of jane@acme.test" in html


def test_an_unknown_address_offers_to_create_the_contact(alice: User) -> None:
    status, html = panel(bearer(alice), "newcomer@acme.test")
    assert status == 200
    assert "newcomer@acme.test" in html and "Not in Cadency yet." in html
    assert 'action="/sidebar/contacts/"' in html and "Create contact" in html
    assert "Enrolled in" not in html


def test_a_contact_not_enrolled_offers_the_sequences(alice: User, jane: Contact) -> None:
    make_sequence(alice, name="Follow-up")
    make_sequence(alice, name="Intro")
    status, html = panel(bearer(alice), "jane@acme.test")
    assert status == 200 and f'action="/sidebar/contacts/{jane.pk}/enroll/"' in html
    assert html.index(">Follow-up</option>") < html.index(">Intro</option>")
    assert "Enrolled in" not in html


def test_each_address_gets_a_card_and_two_addresses_of_one_contact_one(
    alice: User, jane: Contact
) -> None:
    add_alias(contact=jane, email="jd@acme.test")
    make_contact("omar@beta.test", first_name="Omar", last_name="Okafor")
    status, html = panel(
        bearer(alice), "jane@acme.test", "omar@beta.test", "jd@acme.test", "nobody@acme.test"
    )
    assert status == 200
    assert html.count("data-card") == 3
    assert html.index("Jane Doe") < html.index("Omar Okafor") < html.index("nobody@acme.test")


def test_a_malformed_address_says_so(alice: User) -> None:
    status, html = panel(bearer(alice), "not an address")
    assert status == 200 and "is not a valid email address" in html


def test_a_paused_enrollment_offers_resume(
    alice: User, jane: Contact, enrollment: Enrollment
) -> None:
    pause(enrollment=enrollment, actor=alice)
    _, html = panel(bearer(alice), "jane@acme.test")
    assert "Paused in «Intro»" in html and ">Resume</button>" in html and ">Pause<" not in html


def test_a_rep_sees_another_reps_enrollment_without_its_buttons(
    bob: User, jane: Contact, enrollment: Enrollment
) -> None:
    _, html = panel(bearer(bob), "jane@acme.test")
    assert "Enrolled in «Intro»" in html
    assert "Only Alice Archer, a manager or an admin can pause or unenroll." in html
    assert "/unenroll/" not in html


def test_a_manager_gets_the_buttons_on_a_reps_enrollment(
    manager: User, jane: Contact, enrollment: Enrollment
) -> None:
    _, html = panel(bearer(manager), "jane@acme.test")
    assert f"/sidebar/enrollments/{enrollment.pk}/unenroll/" in html


def test_names_and_sequences_are_escaped(alice: User) -> None:
    make_contact("eve@acme.test", first_name="<script>alert(1)</script>", last_name="")
    evil = make_sequence(alice, name='<img src=x onerror="alert(2)">')
    enrolled_later(Contact.objects.get(email="eve@acme.test"), evil, alice)
    _, html = panel(bearer(alice), "eve@acme.test", "<b>@acme.test")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert "<b>@" not in html


def test_without_a_token_the_panel_asks_to_connect(jane: Contact) -> None:
    status, html = panel(Client(), "jane@acme.test")
    assert status == 401
    assert "Connect to Cadency" in html and 'data-action="pair"' in html
    assert "Jane" not in html


@pytest.mark.parametrize("header", ["Bearer cdy_00000000_forged", "Basic YWxpY2U6eA==", "Bearer"])
def test_a_wrong_token_is_refused(jane: Contact, header: str) -> None:
    response = Client(headers={"Authorization": header}).get(
        "/sidebar/panel/", {"emails": "jane@acme.test"}
    )
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert "Jane" not in response.content.decode()


def test_a_revoked_token_is_refused(alice: User, jane: Contact) -> None:
    issued = create_token(user=alice, name="Gmail sidebar")
    revoke_token(token=issued.token, actor=alice)
    status, _ = panel(bearer(issued.secret), "jane@acme.test")
    assert status == 401


def test_a_session_is_not_enough(alice: User, jane: Contact) -> None:
    client = Client()
    client.force_login(alice)
    status, html = panel(client, "jane@acme.test")
    assert status == 401 and "Jane" not in html


def test_no_recipient_yet(alice: User) -> None:
    status, html = panel(bearer(alice))
    assert status == 200 and "Add a recipient" in html


def test_addresses_are_parsed_once_each_and_capped(alice: User) -> None:
    assert parse_addresses(" a@x.test, A@x.test;b@x.test,, ") == ["a@x.test", "b@x.test"]
    many = [f"person{n}@acme.test" for n in range(MAX_ADDRESSES + 3)]
    _, html = panel(bearer(alice), *many)
    assert html.count("data-card") == MAX_ADDRESSES and "3 more addresses not shown" in html


def test_a_deleted_sequence_is_not_offered(alice: User, jane: Contact, intro: Sequence) -> None:
    delete_sequence(sequence=intro, actor=alice)
    _, html = panel(bearer(alice), "jane@acme.test")
    assert "There is no sequence to enroll in yet." in html
