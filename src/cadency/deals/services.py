"""Creating deals, moving them through stages, and the contacts on them.

Each change writes a ledger event (``deal_created``, ``deal_stage_changed``,
``deal_contact_added``, ``deal_contact_removed``) that automation can react to."""

from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction

from cadency.accounts.models import User
from cadency.contacts.addresses import InvalidAddress, normalize_email
from cadency.contacts.models import Company, Contact
from cadency.contacts.services import address_owner
from cadency.deals.models import Deal, DealStage
from cadency.ledger.services import record_event
from cadency.sequences.services.enrollment import contact_label

NAME_LIMIT = 200
AMOUNT_LIMIT = Decimal("999999999999.99")  # what max_digits=14, decimal_places=2 holds


class DealError(ValueError):
    """A deal cannot be created or changed as asked; the message says why."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _check_amount(amount: Decimal | None) -> Decimal | None:
    if amount is None:
        return None
    if not amount.is_finite() or amount < 0:
        raise DealError("The amount must be zero or more.", field="amount")
    if amount > AMOUNT_LIMIT:
        raise DealError(f"The amount must be at most {AMOUNT_LIMIT}.", field="amount")
    return amount.quantize(Decimal("0.01"))


def _check_contact(contact: Contact) -> None:
    if contact.deleted_at is not None:
        raise DealError(f"{contact.email} belongs to a deleted contact.", field="contacts")


def contacts_at(addresses: Iterable[str]) -> list[Contact]:
    """The contacts owning these addresses (primary or alias); DealError names the first
    address that is not valid or is no live contact's."""
    found = []
    for address in addresses:
        try:
            email = normalize_email(address)
        except InvalidAddress as exc:
            raise DealError(str(exc), field="contacts") from exc
        contact = address_owner(email)
        if contact is None:
            raise DealError(f"No contact has the address {email}.", field="contacts")
        found.append(contact)
    return list(dict.fromkeys(found))


def create_deal(
    *,
    actor: User,
    name: str,
    stage: str = DealStage.QUALIFICATION,
    amount: Decimal | None = None,
    company: Company | None = None,
    contacts: Iterable[Contact] = (),
    owner: User | None = None,
) -> Deal:
    """Raises DealError, writing nothing, on a missing name, a bad stage or amount."""
    name = name.strip()
    if not name:
        raise DealError("Give the deal a name.", field="name")
    if len(name) > NAME_LIMIT:
        raise DealError(f"The name is longer than {NAME_LIMIT} characters.", field="name")
    if stage not in DealStage.values:
        raise DealError(f"Unknown stage {stage!r}.", field="stage")
    amount = _check_amount(amount)
    people = list(dict.fromkeys(contacts))
    for contact in people:
        _check_contact(contact)
    owner = owner or actor
    with transaction.atomic():
        deal = Deal.objects.create(
            name=name, stage=stage, amount=amount, company=company, owner=owner
        )
        deal.contacts.set(people)
        at = f" at {company.name}" if company else ""
        record_event(
            kind="deal_created",
            actor=actor,
            sentence=(
                f"{actor.display_name} created the deal «{name}»{at} ({DealStage(stage).label})."
            ),
            data={
                "deal": deal.pk,
                "stage": stage,
                "amount": str(amount) if amount is not None else None,
                "company": company.pk if company else None,
                "contacts": [c.pk for c in people],
            },
        )
    return deal


def update_deal_stage(*, deal: Deal, stage: str, actor: User) -> bool:
    """Move the deal to ``stage``. False, writing nothing, when it is already there."""
    if stage not in DealStage.values:
        raise DealError(f"Unknown stage {stage!r}.", field="stage")
    with transaction.atomic():
        locked = Deal.objects.select_for_update().get(pk=deal.pk)
        before = locked.stage
        if before == stage:
            return False
        locked.stage = stage
        locked.save(update_fields=["stage"])
        record_event(
            kind="deal_stage_changed",
            actor=actor,
            sentence=(
                f"{actor.display_name} moved the deal «{locked.name}» from "
                f"{DealStage(before).label} to {DealStage(stage).label}."
            ),
            data={"deal": locked.pk, "from": before, "to": stage},
        )
    deal.refresh_from_db()
    return True


def add_deal_contact(*, deal: Deal, contact: Contact, actor: User) -> bool:
    """Associate the contact with the deal. False when it already is."""
    _check_contact(contact)
    with transaction.atomic():
        if deal.contacts.filter(pk=contact.pk).exists():
            return False
        deal.contacts.add(contact)
        record_event(
            kind="deal_contact_added",
            contact=contact,
            actor=actor,
            sentence=(
                f"{actor.display_name} added {contact_label(contact)} to the deal «{deal.name}»."
            ),
            data={"deal": deal.pk},
        )
    return True


def remove_deal_contact(*, deal: Deal, contact: Contact, actor: User) -> None:
    """Raises DealError, writing nothing, when the contact is not on the deal."""
    with transaction.atomic():
        if not deal.contacts.filter(pk=contact.pk).exists():
            raise DealError(f"{contact_label(contact)} is not on the deal «{deal.name}».")
        deal.contacts.remove(contact)
        record_event(
            kind="deal_contact_removed",
            contact=contact,
            actor=actor,
            sentence=(
                f"{actor.display_name} removed {contact_label(contact)} "
                f"from the deal «{deal.name}»."
            ),
            data={"deal": deal.pk},
        )
