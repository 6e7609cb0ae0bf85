"""Preview of the same-company rule (SPEC §3 ``company_replied``, §8 "a preview").

What "would end" means here, precisely: an open (active or paused) enrollment E
of the sequence is listed when, since E started, the mailbox E sends from
received a person's message — labelled ``human_reply`` or ``calendar_reply``
(also after a relabel), processed, not one of our own — whose sender

- belongs to E's company, by the inbound rule's own test
  (``inbound.identity``: the associated company, else a company owning the
  domain, else the registered domain; free-mail domains never join two people),
- is not E's contact (nor a message the inbound side tied to E's contact), and
- is not writing from the rep's own organisation (the mailbox's registered
  domain), unless the sender is a known contact.

That is the message on which ``rule_company_replied`` would have ended E had the
rule been on for E. Saving the setting does not end E: every enrollment keeps
the settings it started with, so the rule applies to enrollments made after it
is turned on. The preview says which open enrollments the company has already
answered for, so the rep can decide about them.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Min, Q

from cadency.contacts.models import CompanyDomain, Contact
from cadency.inbound.classification import Label
from cadency.inbound.identity import (
    CompanyKey,
    company_key,
    domain_of,
    find_sender,
    registered_domain,
    same_company,
)
from cadency.inbound.models import InboundMessage, InboundStatus
from cadency.mailboxes.models import Mailbox
from cadency.sequences.models import Enrollment, Sequence
from cadency.sequences.models.enrollment import OPEN_STATUSES

HUMAN_LABELS = tuple(label.value for label in Label if label.is_human)


@dataclass(frozen=True)
class CompanyAnswer:
    """A person's message that would end a colleague's enrollment under the rule."""

    message_id: int  # InboundMessage pk
    mailbox_id: int
    sender: str
    sender_name: str
    subject: str
    received_at: dt.datetime
    contact_id: int | None  # the sender as a known contact, if any
    company: CompanyKey


@dataclass(frozen=True)
class WouldEnd:
    enrollment: Enrollment
    answer: CompanyAnswer  # the first such message since the enrollment started

    @property
    def company(self) -> str:
        key = self.answer.company
        return key.label or key.domain or "the same company"


class _Keys:
    """``company_key`` per (domain, company): it reads CompanyDomain for each new domain."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int | None], CompanyKey | None] = {}

    def of(self, address: str, company_id: int | None, label: str = "") -> CompanyKey | None:
        slot = (domain_of(address), company_id)
        if slot not in self._cache:
            self._cache[slot] = company_key(address, company_id, label)
        return self._cache[slot]


def company_answers(mailbox_ids: set[int], since: dt.datetime) -> list[CompanyAnswer]:
    """People's messages received by these mailboxes since ``since``, with their company."""
    messages = (
        InboundMessage.objects.filter(
            mailbox_id__in=mailbox_ids,
            status=InboundStatus.PROCESSED,
            label__in=HUMAN_LABELS,
            received_at__gte=since,
        )
        .exclude(from_address="")
        .select_related("mailbox")
        .order_by("received_at", "pk")
    )
    keys = _Keys()
    senders: dict[str, tuple[int | None, CompanyKey | None]] = {}
    found: list[CompanyAnswer] = []
    for message in messages.iterator(chunk_size=500):
        address = message.from_address.strip().lower()
        if address not in senders:
            senders[address] = _sender_company(address, keys)
        contact_id, key = senders[address]
        if key is None or (contact_id is None and _is_internal(address, message.mailbox)):
            continue
        found.append(
            CompanyAnswer(
                message_id=message.pk,
                mailbox_id=message.mailbox_id,
                sender=message.from_address,
                sender_name=message.from_name,
                subject=message.subject,
                received_at=message.received_at,
                contact_id=contact_id if contact_id is not None else message.contact_id,
                company=key,
            )
        )
    return found


def _sender_company(address: str, keys: _Keys) -> tuple[int | None, CompanyKey | None]:
    sender = find_sender(address)
    if sender is None:
        return None, keys.of(address, None)
    contact = Contact.objects.select_related("company").get(pk=sender.contact_id)
    company = contact.company
    key = keys.of(address, company.pk if company else None, company.name if company else "")
    return contact.pk, key


def _is_internal(address: str, mailbox: Mailbox) -> bool:
    domain = domain_of(address)
    return bool(domain) and registered_domain(domain) == registered_domain(mailbox.domain)


def _colleagues_query(answers: list[CompanyAnswer]) -> Q:
    """A coarse filter on enrollments that may share a company with one of the answers."""
    company_ids = {a.company.company_id for a in answers if a.company.company_id is not None}
    domains = {a.company.domain for a in answers if a.company.domain is not None}
    domains |= {
        registered_domain(d)
        for d in CompanyDomain.objects.filter(company_id__in=company_ids).values_list(
            "domain", flat=True
        )
    }
    query = Q(contact__company_id__in=company_ids) if company_ids else Q(pk__in=[])
    for domain in sorted(domains):
        query |= Q(email__iendswith=f"@{domain}") | Q(email__iendswith=f".{domain}")
    return query


def same_company_would_end(sequence: Sequence) -> list[WouldEnd]:
    """The open enrollments the same-company rule would end (see the module's docstring)."""
    open_enrollments = Enrollment.objects.filter(sequence=sequence, status__in=OPEN_STATUSES)
    span = open_enrollments.aggregate(since=Min("started_at"))
    if span["since"] is None:
        return []
    mailbox_ids = set(open_enrollments.values_list("mailbox_id", flat=True).distinct())
    answers = company_answers(mailbox_ids, span["since"])
    if not answers:
        return []
    by_mailbox: dict[int, list[CompanyAnswer]] = defaultdict(list)
    for answer in answers:
        by_mailbox[answer.mailbox_id].append(answer)
    keys = _Keys()
    result: list[WouldEnd] = []
    candidates = (
        open_enrollments.filter(_colleagues_query(answers))
        .select_related("contact__company", "enrolled_by")
        .order_by("started_at", "pk")
    )
    for enrollment in candidates:
        company = enrollment.contact.company
        theirs = keys.of(
            enrollment.email, company.pk if company else None, company.name if company else ""
        )
        for answer in by_mailbox.get(enrollment.mailbox_id, []):
            if (
                answer.received_at >= enrollment.started_at
                and answer.contact_id != enrollment.contact_id
                and same_company(answer.company, theirs)
            ):
                result.append(WouldEnd(enrollment, answer))
                break
    return result
