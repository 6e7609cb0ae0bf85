"""What the sidebar shows for the recipients of a message being written.

For each address: the contact who owns it (as primary address or alias, else the
same mailbox written differently), its company, owner and last activity, its open
enrollment with the next scheduled step, and whether the viewer may act on it.
"""

import hashlib
from dataclasses import dataclass

from django.db.models import QuerySet

from cadency.accounts.models import User
from cadency.accounts.permissions import may_act_on
from cadency.contacts.addresses import InvalidAddress, normalize_email
from cadency.contacts.models import Contact
from cadency.contacts.services import address_owner
from cadency.inbound.identity import find_sender
from cadency.ledger.models import Event
from cadency.sequences.models import Enrollment, EnrollmentStatus, Sequence, StepRun
from cadency.sequences.selectors import open_enrollment_of, scheduled_runs

MAX_ADDRESSES = 20

MATCH_NOTES = {
    "alias": "an additional address",
    "case": "written in other letter case",
    "plus_address": "with a +tag",
    "gmail_dots": "with other dots",
    "googlemail": "googlemail.com for gmail.com",
}


@dataclass(frozen=True)
class OpenEnrollment:
    enrollment: Enrollment
    step_count: int
    next_run: StepRun | None
    may_act: bool

    @property
    def is_paused(self) -> bool:
        return self.enrollment.status == EnrollmentStatus.PAUSED


@dataclass(frozen=True)
class Card:
    """One recipient address as the panel shows it."""

    email: str  # the recipient address (normalised when valid)
    contact: Contact | None = None
    matched_as: tuple[str, ...] = ()  # how the address is the contact's, if not its primary
    stored_email: str = ""  # the contact's address it matched
    open_enrollment: OpenEnrollment | None = None
    last_activity: Event | None = None
    error: str = ""  # not a valid address

    @property
    def key(self) -> str:
        """A stable id for the card's HTML elements."""
        if self.contact is not None:
            return f"contact-{self.contact.pk}"
        return "address-" + hashlib.sha256(self.email.encode()).hexdigest()[:12]

    @property
    def match_note(self) -> str:
        notes = ", ".join(MATCH_NOTES.get(form, form) for form in self.matched_as)
        return f"{notes} of {self.stored_email}" if notes else ""


@dataclass(frozen=True)
class Panel:
    cards: list[Card]
    left_out: int  # addresses beyond MAX_ADDRESSES


def parse_addresses(text: str) -> list[str]:
    """``a@x, b@y`` → the distinct addresses, in order."""
    addresses: list[str] = []
    seen: set[str] = set()
    for part in text.replace(";", ",").split(","):
        address = part.strip()
        if address and address.lower() not in seen:
            seen.add(address.lower())
            addresses.append(address)
    return addresses


def find_contact(address: str) -> tuple[Contact | None, tuple[str, ...], str]:
    """The contact an address belongs to, how it matched, and the stored address."""
    contact = address_owner(address)
    if contact is not None:
        return contact, (() if contact.email == address else ("alias",)), address
    written_differently = find_sender(address)
    if written_differently is None:
        return None, (), ""
    contact = Contact.objects.get(pk=written_differently.contact_id)
    forms = written_differently.forms or (written_differently.via,)
    return contact, forms, written_differently.address


def open_enrollment_for(contact: Contact, viewer: User) -> OpenEnrollment | None:
    enrollment = open_enrollment_of(contact)
    if enrollment is None:
        return None
    return OpenEnrollment(
        enrollment=enrollment,
        step_count=enrollment.sequence.steps.filter(version=enrollment.sequence_version).count(),
        next_run=scheduled_runs().filter(enrollment=enrollment).first(),
        may_act=may_act_on(viewer, enrollment.enrolled_by_id),
    )


def card_for(text: str, viewer: User) -> Card:
    try:
        address = normalize_email(text)
    except InvalidAddress:
        return Card(email=text.strip(), error=f"“{text.strip()}” is not a valid email address.")
    contact, matched_as, stored = find_contact(address)
    if contact is None:
        return Card(email=address)
    return Card(
        email=address,
        contact=Contact.objects.select_related("company", "owner").get(pk=contact.pk),
        matched_as=matched_as,
        stored_email=stored,
        open_enrollment=open_enrollment_for(contact, viewer),
        last_activity=contact.events.order_by("-occurred_at", "-pk").first(),
    )


def panel_for(addresses: list[str], viewer: User) -> Panel:
    """One card per contact (two of its addresses make one card), in recipient order."""
    cards: list[Card] = []
    shown: set[int] = set()
    for address in addresses[:MAX_ADDRESSES]:
        card = card_for(address, viewer)
        if card.contact is not None:
            if card.contact.pk in shown:
                continue
            shown.add(card.contact.pk)
        cards.append(card)
    return Panel(cards=cards, left_out=max(0, len(addresses) - MAX_ADDRESSES))


def enrollable_sequences() -> QuerySet[Sequence]:
    return Sequence.objects.filter(archived_at=None).order_by("name")
