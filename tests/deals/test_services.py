"""Deals: creating them, moving their stage, the contacts on them; each change in the ledger."""

from decimal import Decimal

import pytest
from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.models import Company, Contact
from cadency.contacts.services import add_alias
from cadency.deals.models import Deal, DealStage
from cadency.deals.services import (
    DealError,
    add_deal_contact,
    contacts_at,
    create_deal,
    remove_deal_contact,
    update_deal_stage,
)
from cadency.ledger.models import Event
from tests.factories import make_company, make_contact, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice() -> User:
    return make_user("alice", first_name="Alice", last_name="Archer")


@pytest.fixture
def acme() -> Company:
    return make_company("Acme", "acme.test")


@pytest.fixture
def jane(acme: Company) -> Contact:
    return make_contact("jane@acme.test", company=acme)


def counts() -> tuple[int, int]:
    return Deal.objects.count(), Event.objects.count()


def test_creating_a_deal_records_deal_created(alice: User, acme: Company, jane: Contact) -> None:
    deal = create_deal(
        actor=alice, name=" Acme rollout ", amount=Decimal("12000.5"), company=acme, contacts=[jane]
    )
    assert (deal.name, deal.stage, deal.amount, deal.owner) == (
        "Acme rollout",
        DealStage.QUALIFICATION,
        Decimal("12000.50"),
        alice,
    )
    assert list(deal.contacts.all()) == [jane]
    event = Event.objects.get(kind="deal_created")
    assert event.actor == alice
    assert event.sentence == "Alice Archer created the deal «Acme rollout» at Acme (Qualification)."
    assert event.data == {
        "deal": deal.pk,
        "stage": "qualification",
        "amount": "12000.50",
        "company": acme.pk,
        "contacts": [jane.pk],
    }


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "  "}, "name", "Give the deal a name."),
        ({"name": "x" * 201}, "name", "The name is longer than 200 characters."),
        ({"stage": "dreaming"}, "stage", "Unknown stage 'dreaming'."),
        ({"amount": Decimal("-1")}, "amount", "The amount must be zero or more."),
        ({"amount": Decimal("1e13")}, "amount", "The amount must be at most 999999999999.99."),
        ({"amount": Decimal("NaN")}, "amount", "The amount must be zero or more."),
    ],
)
def test_bad_deals_are_refused_and_nothing_is_written(
    alice: User, fields: dict[str, object], field: str, message: str
) -> None:
    before = counts()
    arguments: dict[str, object] = {"actor": alice, "name": "Acme rollout"} | fields
    with pytest.raises(DealError) as caught:
        create_deal(**arguments)  # type: ignore[arg-type]
    assert (str(caught.value), caught.value.field) == (message, field)
    assert counts() == before


def test_a_deleted_contact_cannot_join_a_deal(alice: User, jane: Contact) -> None:
    jane.deleted_at = timezone.now()
    jane.save()
    before = counts()
    with pytest.raises(DealError, match="deleted contact"):
        create_deal(actor=alice, name="Acme rollout", contacts=[jane])
    assert counts() == before


def test_moving_the_stage_records_deal_stage_changed(alice: User) -> None:
    deal = create_deal(actor=alice, name="Acme rollout")
    assert update_deal_stage(deal=deal, stage=DealStage.PROPOSAL, actor=alice)
    assert deal.stage == DealStage.PROPOSAL
    event = Event.objects.get(kind="deal_stage_changed")
    assert (
        event.sentence
        == "Alice Archer moved the deal «Acme rollout» from Qualification to Proposal."
    )
    assert event.data == {"deal": deal.pk, "from": "qualification", "to": "proposal"}


def test_moving_to_the_same_stage_changes_nothing(alice: User) -> None:
    deal = create_deal(actor=alice, name="Acme rollout")
    before = counts()
    assert not update_deal_stage(deal=deal, stage=DealStage.QUALIFICATION, actor=alice)
    assert counts() == before


def test_an_unknown_stage_is_refused(alice: User) -> None:
    deal = create_deal(actor=alice, name="Acme rollout")
    with pytest.raises(DealError, match="Unknown stage 'closed'"):
        update_deal_stage(deal=deal, stage="closed", actor=alice)
    deal.refresh_from_db()
    assert deal.stage == DealStage.QUALIFICATION


def test_contacts_join_and_leave_with_an_event_each(alice: User, jane: Contact) -> None:
    deal = create_deal(actor=alice, name="Acme rollout")
    assert add_deal_contact(deal=deal, contact=jane, actor=alice)
    assert not add_deal_contact(deal=deal, contact=jane, actor=alice)
    remove_deal_contact(deal=deal, contact=jane, actor=alice)
    assert list(deal.contacts.all()) == []
    added, removed = Event.objects.filter(kind__startswith="deal_contact_").order_by("pk")
    assert (added.kind, added.contact, removed.kind, removed.contact) == (
        "deal_contact_added",
        jane,
        "deal_contact_removed",
        jane,
    )
    assert (
        added.sentence == "Alice Archer added Jane Doe (jane@acme.test) to the deal «Acme rollout»."
    )


def test_removing_a_contact_not_on_the_deal_is_refused(alice: User, jane: Contact) -> None:
    deal = create_deal(actor=alice, name="Acme rollout")
    before = counts()
    with pytest.raises(DealError, match="is not on the deal"):
        remove_deal_contact(deal=deal, contact=jane, actor=alice)
    assert counts() == before


def test_contacts_are_found_by_primary_address_or_alias(jane: Contact) -> None:
    add_alias(contact=jane, email="jane.doe@acme.test")
    assert contacts_at(["JANE.DOE@acme.test", "jane@acme.test"]) == [jane]
    with pytest.raises(DealError, match=r"No contact has the address nobody@acme\.test"):
        contacts_at(["nobody@acme.test"])
    with pytest.raises(DealError, match="is not a valid email address"):
        contacts_at(["jane@"])
