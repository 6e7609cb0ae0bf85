"""The deal pages: list, new deal, record (stage, contacts, meetings)."""

from typing import Any

import pytest
from django.test import Client

from cadency.accounts.models import User
from cadency.contacts.models import Company, Contact
from cadency.deals.models import Deal, DealStage
from cadency.deals.services import create_deal
from cadency.ledger.models import Event
from cadency.meetings.models import Meeting
from cadency.sequences.models import EnrollmentStatus, UnenrollReason
from cadency.sequences.services.enrollment import enroll
from tests.factories import make_company, make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice() -> User:
    user = make_user("alice", first_name="Alice", last_name="Archer")
    make_mailbox(user)
    return user


@pytest.fixture
def acme() -> Company:
    return make_company("Acme", "acme.test")


@pytest.fixture
def jane(acme: Company) -> Contact:
    return make_contact("jane@acme.test", company=acme)


@pytest.fixture
def deal(alice: User, acme: Company, jane: Contact) -> Deal:
    return create_deal(actor=alice, name="Acme rollout", company=acme, contacts=[jane])


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def counts() -> tuple[int, int, int]:
    return Deal.objects.count(), Meeting.objects.count(), Event.objects.count()


def test_the_list_shows_deals_and_filters_by_stage_and_search(alice: User, deal: Deal) -> None:
    create_deal(actor=alice, name="Globex pilot", stage=DealStage.WON)
    client = signed_in(alice)
    page = client.get("/deals/").content.decode()
    assert f'href="/deals/{deal.pk}/">Acme rollout</a>' in page
    assert "Globex pilot" in page and "2 deals" in page
    assert 'href="/deals/" aria-current="page">Deals</a>' in page
    won = client.get("/deals/", {"stage": "won"}).content.decode()
    assert "Globex pilot" in won and "Acme rollout" not in won
    found = client.get("/deals/", {"q": "acme"}).content.decode()
    assert "Acme rollout" in found and "Globex pilot" not in found


def test_a_new_deal_is_created_from_the_form(alice: User, acme: Company, jane: Contact) -> None:
    data = {
        "name": "Acme expansion",
        "stage": "proposal",
        "amount": "2500.00",
        "company": str(acme.pk),
        "contacts": "jane@acme.test",
    }
    response = signed_in(alice).post("/deals/new/", data)
    deal = Deal.objects.get(name="Acme expansion")
    assert response["Location"] == f"/deals/{deal.pk}/"
    assert (deal.stage, str(deal.amount), deal.company, list(deal.contacts.all())) == (
        "proposal",
        "2500.00",
        acme,
        [jane],
    )
    assert Event.objects.filter(kind="deal_created", data__deal=deal.pk).count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"stage": "dreaming"}, "Select a valid choice."),
        ({"amount": "-5"}, "Ensure this value is greater than or equal to 0."),
        ({"company": "999999"}, "Choose one of the companies listed."),
        ({"contacts": "nobody@acme.test"}, "No contact has the address nobody@acme.test."),
    ],
)
def test_a_bad_new_deal_gets_a_specific_error_and_nothing_is_written(
    alice: User, data: dict[str, str], message: str
) -> None:
    before = counts()
    form = {"name": "Acme expansion", "stage": "qualification"} | data
    response = signed_in(alice).post("/deals/new/", form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert counts() == before


def test_the_record_shows_the_deal_its_contacts_and_meetings(
    alice: User, deal: Deal, jane: Contact
) -> None:
    page = signed_in(alice).get(f"/deals/{deal.pk}/").content.decode()
    assert "<h1>Acme rollout" in page and "Qualification" in page
    assert f'href="/contacts/{jane.pk}/"' in page
    assert f'action="/deals/{deal.pk}/meetings/new/"' in page
    assert "No meetings yet." in page


def test_the_stage_changes_from_the_record(alice: User, deal: Deal) -> None:
    client = signed_in(alice)
    response = client.post(f"/deals/{deal.pk}/stage/", {"stage": "negotiation"}, follow=True)
    assert "Moved «Acme rollout» from Qualification to Negotiation." in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == DealStage.NEGOTIATION
    before = counts()
    response = client.post(f"/deals/{deal.pk}/stage/", {"stage": "closed"})
    assert response.status_code == 400
    assert "Choose one of the stages listed." in response.content.decode()
    assert counts() == before


def test_contacts_are_added_and_removed_on_the_record(
    alice: User, deal: Deal, jane: Contact
) -> None:
    sam = make_contact("sam@globex.test", first_name="Sam")
    client = signed_in(alice)
    assert client.post(f"/deals/{deal.pk}/contacts/", {"email": "sam@globex.test"}).status_code == (
        302
    )
    assert set(deal.contacts.all()) == {jane, sam}
    client.post(f"/deals/{deal.pk}/contacts/remove/", {"contact": str(jane.pk)})
    assert list(deal.contacts.all()) == [sam]


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("contacts/", {"email": "nobody@acme.test"}, "No contact has the address"),
        ("contacts/", {"email": ""}, "This field is required."),
        ("contacts/remove/", {"contact": "abc"}, "Say which contact to remove."),
        ("contacts/remove/", {"contact": "999999"}, "Say which contact to remove."),
    ],
)
def test_bad_contact_changes_get_a_specific_error(
    alice: User, deal: Deal, path: str, data: dict[str, str], message: str
) -> None:
    before = counts()
    response = signed_in(alice).post(f"/deals/{deal.pk}/{path}", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert counts() == before


def test_removing_a_contact_not_on_the_deal_says_so(alice: User, deal: Deal) -> None:
    sam = make_contact("sam@globex.test", first_name="Sam", last_name="Stone")
    response = signed_in(alice).post(f"/deals/{deal.pk}/contacts/remove/", {"contact": sam.pk})
    assert response.status_code == 400
    assert "Sam Stone (sam@globex.test) is not on the deal «Acme rollout»." in (
        response.content.decode()
    )


def meeting_form(organizer: User, **overrides: Any) -> dict[str, Any]:
    return {
        "title": "Rollout kickoff",
        "starts_at": "2026-12-03T15:00",
        "duration": "60",
        "time_zone": "UTC",
        "organizer": str(organizer.pk),
    } | overrides


def test_a_meeting_logged_on_the_deal_with_the_contact_unenrolls(
    alice: User, deal: Deal, jane: Contact
) -> None:
    enrollment = enroll(
        contact=jane, sequence=make_sequence(alice), user=alice, run_first_step=False
    )
    data = meeting_form(alice, contacts=[str(jane.pk)])
    response = signed_in(alice).post(f"/deals/{deal.pk}/meetings/new/", data)
    assert response["Location"] == f"/deals/{deal.pk}/#meetings"
    enrollment.refresh_from_db()
    assert enrollment.reason == UnenrollReason.MEETING_BOOKED
    page = signed_in(alice).get(f"/deals/{deal.pk}/").content.decode()
    assert "Rollout kickoff" in page and "Logged on the deal record" in page


def test_a_meeting_logged_on_the_deal_without_the_contact_does_not(
    alice: User, deal: Deal, jane: Contact
) -> None:
    enrollment = enroll(
        contact=jane, sequence=make_sequence(alice), user=alice, run_first_step=False
    )
    data = meeting_form(alice, attendees="buyer@acme.test")
    assert signed_in(alice).post(f"/deals/{deal.pk}/meetings/new/", data).status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE


def test_deal_text_is_escaped(alice: User) -> None:
    deal = create_deal(actor=alice, name="<script>alert(1)</script>")
    client = signed_in(alice)
    for path in ("/deals/", f"/deals/{deal.pk}/"):
        page = client.get(path).content.decode()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_unknown_deals_are_not_found(alice: User) -> None:
    client = signed_in(alice)
    assert client.get("/deals/999999/").status_code == 404
    assert client.post("/deals/999999/stage/", {"stage": "won"}).status_code == 404
    assert client.post("/deals/999999/meetings/new/", meeting_form(alice)).status_code == 404


@pytest.mark.parametrize("path", ["/deals/", "/deals/new/", "/deals/1/"])
def test_signed_out_visitors_go_to_the_login_page(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
