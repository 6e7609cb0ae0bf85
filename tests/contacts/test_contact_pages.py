"""The contacts list and the contact record: search, filters, the enrolled banner, its actions."""

import re
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import SettingsWrapper

from cadency.accounts.models import User
from cadency.contacts.models import ContactEmail, Suppression
from cadency.contacts.services import add_alias
from cadency.ledger.models import Event
from cadency.sequences.models import (
    EnrollmentStatus,
    Sequence,
    StepRun,
    StepRunState,
    UnenrollReason,
)
from cadency.sequences.services.enrollment import pause, unenroll
from tests.contacts.support import enrolled, signed_in
from tests.factories import make_company, make_contact, make_sequence

pytestmark = pytest.mark.django_db


def text_of(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


# --- signed out -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/contacts/", "/contacts/1/", "/contacts/1/enroll/"])
def test_pages_send_a_signed_out_visitor_to_the_login_page(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


# --- the list ---------------------------------------------------------------


def test_the_list_shows_each_contact_with_its_company_owner_and_current_enrollment(
    alice: User, bob: User, sequence: Sequence
) -> None:
    acme = make_company("Acme", "acme.test")
    jane = make_contact("jane@acme.test", company=acme, owner=bob)
    make_contact("sam@globex.test", first_name="Sam", last_name="Stone")
    enrolled(jane, sequence, alice)
    page = text_of(signed_in(alice).get("/contacts/"))
    assert f'href="/contacts/{jane.pk}/"' in page
    assert "jane@acme.test" in page and "sam@globex.test" in page
    assert f'href="/companies/{acme.pk}/"' in page
    assert "Bob Baker" in page
    assert f'href="/sequences/{sequence.pk}/">Intro</a>' in page
    assert "2 contacts" in page


def test_search_matches_name_address_alias_and_company(alice: User) -> None:
    acme = make_company("Acme Corp", "acme.test")
    jane = make_contact("jane@acme.test", company=acme)
    sam = make_contact("sam@globex.test", first_name="Sam", last_name="Stone")
    add_alias(contact=sam, email="samuel@stone.test")
    client = signed_in(alice)

    def found(query: str) -> set[str]:
        page = text_of(client.get("/contacts/", {"q": query}))
        return {c.email for c in (jane, sam) if f'href="/contacts/{c.pk}/"' in page}

    assert found("jane") == {"jane@acme.test"}
    assert found("Sam Stone") == {"sam@globex.test"}
    assert found("samuel@stone") == {"sam@globex.test"}
    assert found("acme corp") == {"jane@acme.test"}
    assert found("nobody-at-all") == set()


def test_filters_enrolled_not_enrolled_and_in_a_sequence(alice: User, sequence: Sequence) -> None:
    other = make_sequence(alice, name="Other")
    in_intro = make_contact("in.intro@acme.test")
    in_other = make_contact("in.other@acme.test")
    idle = make_contact("idle@acme.test")
    ended = make_contact("ended@acme.test")
    enrolled(in_intro, sequence, alice)
    enrolled(in_other, other, alice)
    unenroll(enrollment=enrolled(ended, sequence, alice), reason=UnenrollReason.MANUAL)
    client = signed_in(alice)
    everyone = {in_intro, in_other, idle, ended}

    def shown(**params: Any) -> set[str]:
        page = text_of(client.get("/contacts/", params))
        return {c.email for c in everyone if f'href="/contacts/{c.pk}/"' in page}

    assert shown(enrollment="enrolled") == {"in.intro@acme.test", "in.other@acme.test"}
    assert shown(enrollment="not_enrolled") == {"idle@acme.test", "ended@acme.test"}
    assert shown(sequence=sequence.pk) == {"in.intro@acme.test"}


def test_filters_by_owner_and_company(alice: User, bob: User) -> None:
    acme = make_company("Acme", "acme.test")
    globex = make_company("Globex", "globex.test")
    mine = make_contact("mine@acme.test", owner=alice, company=acme)
    theirs = make_contact("theirs@globex.test", owner=bob, company=globex)
    client = signed_in(alice)
    by_owner = text_of(client.get("/contacts/", {"owner": bob.pk}))
    assert f'href="/contacts/{theirs.pk}/"' in by_owner
    assert f'href="/contacts/{mine.pk}/"' not in by_owner
    by_company = text_of(client.get("/contacts/", {"company": acme.pk, "q": "test"}))
    assert f'href="/contacts/{mine.pk}/"' in by_company
    assert f'href="/contacts/{theirs.pk}/"' not in by_company
    assert 'Company: <a href="/companies/' in by_company
    assert 'href="?q=test" aria-label="Stop filtering by Acme"' in by_company


def test_an_unknown_company_filter_says_so(alice: User) -> None:
    page = text_of(signed_in(alice).get("/contacts/", {"company": "999999"}))
    assert "Company: Select a valid choice" in page


def test_a_bad_filter_value_says_why_and_the_other_filters_still_apply(alice: User) -> None:
    jane = make_contact("jane@acme.test")
    sam = make_contact("sam@globex.test", first_name="Sam", last_name="Stone")
    page = text_of(signed_in(alice).get("/contacts/", {"sequence": "999999", "q": "jane"}))
    assert "Select a valid choice" in page
    assert f'href="/contacts/{jane.pk}/"' in page
    assert f'href="/contacts/{sam.pk}/"' not in page


def test_the_list_is_paginated_and_keeps_the_filters_in_its_links(alice: User) -> None:
    for n in range(55):
        make_contact(f"person{n:02d}@acme.test", first_name="Pat", last_name=f"P{n:02d}")
    client = signed_in(alice)
    first = text_of(client.get("/contacts/", {"q": "acme"}))
    assert "Page 1 of 2" in first
    assert 'href="?q=acme&amp;page=2"' in first
    second = text_of(client.get("/contacts/", {"q": "acme", "page": "2"}))
    assert len(re.findall(r'href="/contacts/\d+/"', second)) == 5
    assert "Page 2 of 2" in text_of(client.get("/contacts/", {"q": "acme", "page": "99"}))


def test_the_list_costs_the_same_number_of_queries_for_5_or_50_contacts(
    alice: User, bob: User, sequence: Sequence, django_assert_max_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    acme = make_company("Acme", "acme.test")

    def add(count: int, start: int) -> None:
        for n in range(start, start + count):
            contact = make_contact(f"p{n}@acme.test", company=acme, owner=bob)
            add_alias(contact=contact, email=f"p{n}.alias@acme.test")
            enrolled(contact, sequence, alice)

    client = signed_in(alice)
    add(5, 0)
    with CaptureQueriesContext(connection) as small:
        text_of(client.get("/contacts/"))
    add(45, 5)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = text_of(client.get("/contacts/"))
    assert page.count(f'href="/sequences/{sequence.pk}/">Intro</a>') == 50


def test_html_in_a_contact_name_is_escaped(alice: User) -> None:
    contact = make_contact("x@acme.test", first_name="<script>alert(1)</script>", last_name="Z")
    client = signed_in(alice)
    for path in ["/contacts/", f"/contacts/{contact.pk}/"]:
        page = text_of(client.get(path))
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- the record -------------------------------------------------------------


def test_the_record_shows_properties_company_and_every_address(alice: User, bob: User) -> None:
    acme = make_company("Acme", "acme.test")
    jane = make_contact(
        "jane@acme.test",
        company=acme,
        owner=bob,
        time_zone="Europe/Paris",
        lifecycle_stage="customer",
        properties={"title": "Head of Ops", "phone": "+33 1 00 00 00 00"},
    )
    add_alias(contact=jane, email="j.doe@acme.test")
    page = text_of(signed_in(alice).get(f"/contacts/{jane.pk}/"))
    assert "Jane Doe" in page
    assert f'href="/companies/{acme.pk}/">Acme</a>' in page
    for text in ["Europe/Paris", "Customer", "Bob Baker", "Head of Ops", "+33 1 00 00 00 00"]:
        assert text in page
    assert "jane@acme.test" in page and "j.doe@acme.test" in page
    assert f'href="/contacts/{jane.pk}/enroll/"' in page


def test_an_unknown_contact_is_not_found(alice: User) -> None:
    assert signed_in(alice).get("/contacts/999999/").status_code == 404


def test_the_record_says_when_an_address_is_suppressed(alice: User) -> None:
    jane = make_contact("jane@acme.test")
    add_alias(contact=jane, email="jd@acme.test")
    Suppression.objects.create(email="jd@acme.test", reason="bounced", detail="5.1.1 unknown")
    page = text_of(signed_in(alice).get(f"/contacts/{jane.pk}/"))
    assert "Suppressed" in page
    assert "<strong>jd@acme.test</strong>: bounced" in page


def test_the_banner_shows_sequence_step_next_send_enrolled_by_and_mailbox(
    alice: User, sequence: Sequence
) -> None:
    jane = make_contact("jane@acme.test")
    enrollment = enrolled(jane, sequence, alice)
    due = StepRun.objects.get(enrollment=enrollment).due_at
    page = text_of(signed_in(alice).get(f"/contacts/{jane.pk}/"))
    assert "Enrolled in «" in page and ">Intro</a>»" in page
    assert "Step 1 of 2" in page
    assert f'Next: step 1 at <time datetime="{due.isoformat()}"' in page
    assert "Enrolled by Alice Archer" in page
    assert "From alice@example.test" in page
    assert f'href="/contacts/{jane.pk}/enroll/"' not in page, "no Enroll while enrolled"


def test_the_banner_offers_unenroll_and_pause_to_the_rep_who_enrolled(
    alice: User, sequence: Sequence
) -> None:
    jane = make_contact("jane@acme.test")
    enrollment = enrolled(jane, sequence, alice)
    page = text_of(signed_in(alice).get(f"/contacts/{jane.pk}/"))
    assert f'action="/enrollments/{enrollment.pk}/unenroll/"' in page
    assert 'data-confirm="Unenroll Jane Doe from «Intro»?"' in page
    assert f'action="/enrollments/{enrollment.pk}/pause/"' in page
    assert f'name="next" value="/contacts/{jane.pk}/"' in page
    assert "/resume/" not in page


def test_a_paused_enrollment_offers_resume(alice: User, sequence: Sequence) -> None:
    jane = make_contact("jane@acme.test")
    enrollment = enrolled(jane, sequence, alice)
    pause(enrollment=enrollment, actor=alice)
    page = text_of(signed_in(alice).get(f"/contacts/{jane.pk}/"))
    assert "Paused in «" in page
    assert f'action="/enrollments/{enrollment.pk}/resume/"' in page
    assert "/pause/" not in page


def test_another_rep_sees_the_banner_without_the_buttons(
    alice: User, bob: User, sequence: Sequence
) -> None:
    jane = make_contact("jane@acme.test")
    enrolled(jane, sequence, alice)
    page = text_of(signed_in(bob).get(f"/contacts/{jane.pk}/"))
    assert "Enrolled in «" in page
    assert "/unenroll/" not in page and "/pause/" not in page
    assert "Only Alice Archer, a manager or an admin can pause or unenroll." in page


def test_a_manager_gets_the_buttons_on_a_reps_enrollment(
    alice: User, manager: User, sequence: Sequence
) -> None:
    jane = make_contact("jane@acme.test")
    enrollment = enrolled(jane, sequence, alice)
    page = text_of(signed_in(manager).get(f"/contacts/{jane.pk}/"))
    assert f'action="/enrollments/{enrollment.pk}/unenroll/"' in page


def test_unenroll_from_the_record_ends_it_manual_by_that_user_and_comes_back(
    alice: User, sequence: Sequence
) -> None:
    jane = make_contact("jane@acme.test")
    enrollment = enrolled(jane, sequence, alice)
    client = signed_in(alice)
    record = f"/contacts/{jane.pk}/"
    response = client.post(f"/enrollments/{enrollment.pk}/unenroll/", {"next": record})
    assert (response.status_code, response["Location"]) == (302, record)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.UNENROLLED
    assert (enrollment.reason, enrollment.ended_by) == (UnenrollReason.MANUAL, alice)
    assert StepRun.objects.get(enrollment=enrollment).state == StepRunState.CANCELLED
    page = text_of(client.get(record))
    assert "Unenrolled Jane Doe (jane@acme.test) from «Intro»." in page
    assert "Enrolled in «" not in page
    assert "<code>manual</code>" in page, "listed in the past enrollments with its reason"
    assert "Alice Archer unenrolled Jane Doe (jane@acme.test) from «Intro»" in page


def test_a_rep_gets_403_on_another_reps_enrollment_and_nothing_changes(
    alice: User, bob: User, sequence: Sequence
) -> None:
    jane = make_contact("jane@acme.test")
    enrollment = enrolled(jane, sequence, alice)
    events = Event.objects.count()
    client = signed_in(bob)
    for action in ["unenroll", "pause"]:
        response = client.post(
            f"/enrollments/{enrollment.pk}/{action}/", {"next": f"/contacts/{jane.pk}/"}
        )
        assert response.status_code == 403
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE
    assert Event.objects.count() == events


def test_past_enrollments_list_sequence_status_reason_and_its_sentence(
    alice: User, sequence: Sequence
) -> None:
    jane = make_contact("jane@acme.test")
    first = enrolled(jane, sequence, alice)
    unenroll(
        enrollment=first,
        reason=UnenrollReason.REPLIED,
        sentence="Jane Doe replied from jane@acme.test to step 1.",
    )
    page = text_of(signed_in(alice).get(f"/contacts/{jane.pk}/"))
    assert "Past enrollments" in page
    assert "<code>replied</code>" in page
    assert "Jane Doe replied from jane@acme.test to step 1." in page
    assert '<span class="badge unenrolled">Unenrolled</span>' in page


def test_demo_mode_adds_the_demo_actions_and_is_off_by_default(
    alice: User, settings: SettingsWrapper
) -> None:
    jane = make_contact("jane@acme.test")
    client = signed_in(alice)
    settings.CADENCY_DEMO = False
    assert "demo" not in text_of(client.get(f"/contacts/{jane.pk}/")).lower()
    settings.CADENCY_DEMO = True
    page = text_of(client.get(f"/contacts/{jane.pk}/"))
    assert "Reply as this contact" in page
    assert "Send an out-of-office as this contact" in page


def test_aliases_do_not_add_rows_to_the_list(alice: User) -> None:
    jane = make_contact("jane@acme.test")
    add_alias(contact=jane, email="j1@acme.test")
    add_alias(contact=jane, email="j2@acme.test")
    page = text_of(signed_in(alice).get("/contacts/", {"q": "j"}))
    assert page.count(f'href="/contacts/{jane.pk}/"') == 1
    assert ContactEmail.objects.count() == 2
