"""Creating contacts and companies, aliases, and CSV import."""

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import DatabaseError, IntegrityError, transaction

from cadency.accounts.models import User
from cadency.contacts.addresses import InvalidAddress, normalize_email
from cadency.contacts.models import Company, CompanyDomain, Contact, ContactEmail, LifecycleStage
from cadency.ledger.services import record_event

KNOWN_COLUMNS = {
    "email",
    "first_name",
    "last_name",
    "company",
    "company_domain",
    "time_zone",
    "lifecycle_stage",
    "aliases",
}


class ContactError(ValueError):
    """A contact cannot be created or changed as asked; the message says why."""


def address_owner(email: str) -> Contact | None:
    """The live contact that owns this address, as primary or as alias."""
    contact = Contact.objects.filter(email=email, deleted_at__isnull=True).first()
    if contact is not None:
        return contact
    alias = (
        ContactEmail.objects.select_related("contact")
        .filter(email=email, contact__deleted_at__isnull=True)
        .first()
    )
    return alias.contact if alias else None


def check_length(value: str, limit: int, what: str) -> str:
    if len(value) > limit:
        raise ContactError(f"{what} is longer than {limit} characters")
    return value


def company_for(name: str, domain: str) -> Company | None:
    if domain:
        found = CompanyDomain.objects.select_related("company").filter(domain=domain).first()
        if found:
            return found.company
    if not name:
        return None
    company = Company.objects.filter(name=name).first() or Company.objects.create(name=name)
    if domain:
        CompanyDomain.objects.get_or_create(domain=domain, defaults={"company": company})
    return company


def check_zone(name: str) -> str:
    if not name:
        return ""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ContactError(f"unknown time zone {name!r} (use a name like Europe/Paris)") from exc
    return name


def upsert_contact(
    *,
    email: str,
    first_name: str = "",
    last_name: str = "",
    company_name: str = "",
    company_domain: str = "",
    time_zone: str = "",
    lifecycle_stage: str = "",
    aliases: list[str] | None = None,
    properties: dict[str, Any] | None = None,
    actor: User | None = None,
) -> tuple[Contact, bool]:
    """Create the contact, or update the one with this primary address."""
    try:
        primary = normalize_email(email)
        alias_addresses = [normalize_email(a) for a in aliases or [] if a.strip()]
    except InvalidAddress as exc:
        raise ContactError(str(exc)) from exc
    if lifecycle_stage and lifecycle_stage not in LifecycleStage.values:
        raise ContactError(
            f"unknown lifecycle stage {lifecycle_stage!r} ({', '.join(LifecycleStage.values)})"
        )
    zone = check_zone(time_zone)
    check_length(first_name, 100, "first_name")
    check_length(last_name, 100, "last_name")
    check_length(company_name, 200, "company")
    check_length(company_domain, 253, "company_domain")
    with transaction.atomic():
        owner = address_owner(primary)
        if owner is not None and owner.email != primary:
            raise ContactError(f"{primary} is already an additional address of {owner.email}")
        contact, created = Contact.objects.get_or_create(email=primary)
        if contact.deleted_at is not None:
            raise ContactError(f"{primary} belongs to a deleted contact")
        before = tracked_values(contact)
        contact.first_name = first_name or contact.first_name
        contact.last_name = last_name or contact.last_name
        contact.time_zone = zone or contact.time_zone
        contact.lifecycle_stage = lifecycle_stage or contact.lifecycle_stage
        contact.company = company_for(company_name, company_domain.lower()) or contact.company
        contact.properties = {**contact.properties, **(properties or {})}
        contact.save()
        record_contact_change(contact, before, created, actor)
        for alias in alias_addresses:
            add_alias(contact=contact, email=alias, actor=actor)
    return contact, created


TRACKED_FIELDS = (
    "first_name",
    "last_name",
    "time_zone",
    "lifecycle_stage",
    "company_id",
    "owner_id",
    "properties",
)


def tracked_values(contact: Contact) -> dict[str, Any]:
    return {name: getattr(contact, name) for name in TRACKED_FIELDS}


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{"lifecycle_stage": [old, new], "properties.plan": [old, new], ...}``: what
    automation reads to know which property changed and to what."""
    changes: dict[str, list[Any]] = {}
    for name, old in before.items():
        new = after[name]
        if name == "properties":
            for key in sorted(set(old) | set(new)):
                if old.get(key) != new.get(key):
                    changes[f"properties.{key}"] = [old.get(key), new.get(key)]
        elif old != new:
            changes[name.removesuffix("_id")] = [old, new]
    return changes


def record_contact_change(
    contact: Contact, before: dict[str, Any], created: bool, actor: User | None
) -> None:
    if created:
        record_contact_event(
            "contact_created", contact, actor, f"created the contact {contact.email}."
        )
        return
    changes = field_changes(before, tracked_values(contact))
    if changes:
        fields = ", ".join(changes).replace("properties.", "")
        record_contact_event(
            "contact_updated",
            contact,
            actor,
            f"changed the {fields} of {contact.email}.",
            data={"fields": list(changes), "changes": changes},
        )


def record_contact_event(
    kind: str, contact: Contact, actor: User | None, did: str, data: dict[str, Any] | None = None
) -> None:
    """A ledger event whose sentence is "<the actor, else Cadency> <did>"."""
    who = actor.display_name if actor is not None else "Cadency"
    record_event(kind=kind, contact=contact, actor=actor, sentence=f"{who} {did}", data=data)


def add_alias(*, contact: Contact, email: str, actor: User | None = None) -> ContactEmail:
    try:
        address = normalize_email(email)
    except InvalidAddress as exc:
        raise ContactError(str(exc)) from exc
    owner = address_owner(address)
    if owner is not None and owner.pk != contact.pk:
        raise ContactError(f"{address} already belongs to {owner.email}")
    if address == contact.email:
        raise ContactError(f"{address} is already the primary address")
    try:
        with transaction.atomic():
            alias, created = ContactEmail.objects.get_or_create(contact=contact, email=address)
            if created:
                record_contact_event(
                    "alias_added",
                    contact,
                    actor,
                    f"added the address {address} to {contact.email}.",
                    data={"email": address},
                )
    except IntegrityError as exc:
        raise ContactError(f"{address} already belongs to another contact") from exc
    return alias


def remove_alias(*, contact: Contact, email: str, actor: User | None) -> None:
    """Remove an additional address of the contact (never the primary one).

    Mail already matched through it keeps its history; later mail from it no
    longer finds the contact. Raises ContactError, changing nothing, when the
    address is not one of the contact's aliases."""
    try:
        address = normalize_email(email)
    except InvalidAddress as exc:
        raise ContactError(str(exc)) from exc
    if address == contact.email:
        raise ContactError(f"{address} is the primary address of the contact, not an alias")
    with transaction.atomic():
        removed, _ = ContactEmail.objects.filter(contact=contact, email=address).delete()
        if not removed:
            raise ContactError(f"{address} is not an additional address of {contact.email}")
        record_contact_event(
            "alias_removed",
            contact,
            actor,
            f"removed the address {address} from {contact.email}.",
            data={"email": address},
        )


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "errors": [{"line": line, "error": error} for line, error in self.errors],
        }


def read_csv_rows(text: str) -> Iterator[tuple[int, dict[str, str], str]]:
    """(line number, row, problem) for each row; a row with a problem is not imported."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "email" not in [f.strip().lower() for f in reader.fieldnames]:
        raise ContactError("the CSV needs a header row with an 'email' column")
    for row in reader:
        clean = {
            key.strip().lower(): (value or "").strip()
            for key, value in row.items()
            if isinstance(key, str) and isinstance(value, str | None)
        }
        problem = "more values than columns" if None in row else ""
        yield reader.line_num, clean, problem


def import_contacts(text: str, *, on_row: Callable[[int], None] | None = None) -> ImportReport:
    """Import contacts from CSV text. Each row is written whole or not at all;
    bad rows are reported with their line number and the good ones are kept.
    Raises ContactError when the file itself is unusable (no email column)."""
    report = ImportReport()
    rows = read_csv_rows(text)
    rows_read = 1
    while True:
        try:
            line, row, problem = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            report.errors.append((rows_read + 1, f"unreadable CSV, import stopped here: {exc}"))
            break
        rows_read = line
        if on_row:
            on_row(line)
        if problem:
            report.errors.append((line, problem))
            continue
        try:
            _, created = upsert_contact(
                email=row.get("email", ""),
                first_name=row.get("first_name", ""),
                last_name=row.get("last_name", ""),
                company_name=row.get("company", ""),
                company_domain=row.get("company_domain", ""),
                time_zone=row.get("time_zone", ""),
                lifecycle_stage=row.get("lifecycle_stage", ""),
                aliases=row.get("aliases", "").split(";") if row.get("aliases") else [],
                properties={k: v for k, v in row.items() if k not in KNOWN_COLUMNS and v},
            )
        except ContactError as exc:
            report.errors.append((line, str(exc)))
        except DatabaseError as exc:
            report.errors.append((line, f"not saved: {exc}"))
        else:
            report.created += created
            report.updated += not created
    return report
