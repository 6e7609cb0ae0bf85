"""Contacts and their email addresses (the primary one and the aliases)."""

import datetime as dt
from typing import Annotated, Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from cadency.accounts.models import User
from cadency.accounts.permissions import check_may_delete_contact
from cadency.api.auth import actor_of
from cadency.api.common import (
    CompanyRef,
    Id,
    JsonObject,
    Text,
    UserRef,
    check_exists,
    get_or_404,
)
from cadency.api.errors import ApiError, ErrorOut, conflict, errors, invalid
from cadency.api.pagination import Page
from cadency.contacts.addresses import InvalidAddress, normalize_email
from cadency.contacts.models import Company, Contact, LifecycleStage
from cadency.contacts.permissions import check_may_edit_contact
from cadency.contacts.services import ContactError, add_alias, remove_alias, upsert_contact
from cadency.sequences.services.lifecycle import delete_contact

router = Router(tags=["contacts"])

Email = Annotated[Text, Field(max_length=254, examples=["jane@acme.example"])]


class ContactOut(Schema):
    id: int
    email: str
    first_name: str
    last_name: str
    name: str
    company: CompanyRef | None
    time_zone: str
    lifecycle_stage: str
    owner: UserRef | None
    properties: dict[str, Any]
    aliases: list[str]
    created_at: dt.datetime
    deleted_at: dt.datetime | None

    @staticmethod
    def resolve_name(obj: Contact) -> str:
        return obj.full_name

    @staticmethod
    def resolve_aliases(obj: Contact) -> list[str]:
        return sorted(alias.email for alias in obj.aliases.all())


class ContactIn(Schema):
    """Create a contact, or update the one whose primary address this is.
    Fields left out (or empty) keep their current value; properties are merged."""

    email: Email
    first_name: Annotated[Text, Field(max_length=100)] = ""
    last_name: Annotated[Text, Field(max_length=100)] = ""
    company_name: Annotated[Text, Field(max_length=200)] = ""
    company_domain: Annotated[Text, Field(max_length=253)] = ""
    time_zone: Annotated[Text, Field(max_length=64, examples=["Europe/Paris"])] = ""
    lifecycle_stage: LifecycleStage | None = None
    aliases: list[Email] = Field(default_factory=list, max_length=100)
    properties: JsonObject = Field(default_factory=dict)


class ContactUpdateIn(Schema):
    """Change a contact; fields left out (or empty) keep their value."""

    first_name: Annotated[Text, Field(max_length=100)] = ""
    last_name: Annotated[Text, Field(max_length=100)] = ""
    company_name: Annotated[Text, Field(max_length=200)] = ""
    company_domain: Annotated[Text, Field(max_length=253)] = ""
    time_zone: Annotated[Text, Field(max_length=64)] = ""
    lifecycle_stage: LifecycleStage | None = None
    properties: JsonObject = Field(default_factory=dict)


class ContactFilter(Schema):
    search: Annotated[Text, Field(max_length=200, description="in names and addresses")] = ""
    company: Id | None = None
    lifecycle_stage: LifecycleStage | None = None
    include_deleted: bool = False


class EmailOut(Schema):
    email: str
    primary: bool


class EmailIn(Schema):
    email: Email


def contacts() -> QuerySet[Contact]:
    return Contact.objects.select_related("company", "owner").prefetch_related("aliases")


def live_contact(contact_id: int) -> Contact:
    contact = get_or_404(contacts(), contact_id, "contact")
    if contact.deleted_at is not None:
        raise conflict(f"contact {contact_id} was deleted")
    return contact


@router.get("/contacts", response={200: list[ContactOut], **errors(404)})
@paginate(Page)
def list_contacts(request: HttpRequest, filters: Query[ContactFilter]) -> QuerySet[Contact]:
    """Contacts, alphabetically by address."""
    check_exists(Company.objects.all(), filters.company, "company")
    found = contacts().order_by("email", "pk")
    if not filters.include_deleted:
        found = found.filter(deleted_at__isnull=True)
    if filters.company is not None:
        found = found.filter(company_id=filters.company)
    if filters.lifecycle_stage:
        found = found.filter(lifecycle_stage=filters.lifecycle_stage)
    text = filters.search.strip()
    if text:
        found = found.filter(
            Q(email__icontains=text)
            | Q(first_name__icontains=text)
            | Q(last_name__icontains=text)
            | Q(aliases__email__icontains=text)
        ).distinct()
    return found


@router.get("/contacts/{contact_id}", response={200: ContactOut, **errors(404)})
def get_contact(request: HttpRequest, contact_id: Id) -> Contact:
    return get_or_404(contacts(), contact_id, "contact")


def save_contact(
    email: str, fields: ContactIn | ContactUpdateIn, actor: User
) -> tuple[Contact, bool]:
    try:
        existing = Contact.objects.filter(email=normalize_email(email)).first()
    except InvalidAddress:
        existing = None  # upsert_contact refuses it, saying why
    if existing is not None:
        check_may_edit_contact(actor, existing)  # 403: another user's contact
    try:
        contact, created = upsert_contact(
            email=email,
            first_name=fields.first_name,
            last_name=fields.last_name,
            company_name=fields.company_name,
            company_domain=fields.company_domain,
            time_zone=fields.time_zone,
            lifecycle_stage=fields.lifecycle_stage.value if fields.lifecycle_stage else "",
            aliases=fields.aliases if isinstance(fields, ContactIn) else [],
            properties=fields.properties,
            actor=actor,
        )
    except ContactError as exc:
        raise invalid(str(exc)) from exc
    return contacts().get(pk=contact.pk), created


@router.post("/contacts", response={200: ContactOut, 201: ContactOut, **errors(403)})
def create_or_update_contact(request: HttpRequest, body: ContactIn) -> Status[Contact]:
    """Create a contact (201), or update the one with this primary address (200)."""
    contact, created = save_contact(body.email, body, actor_of(request))
    return Status(201 if created else 200, contact)


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **errors(403, 404, 409)})
def update_contact(request: HttpRequest, contact_id: Id, body: ContactUpdateIn) -> Contact:
    contact = live_contact(contact_id)
    return save_contact(contact.email, body, actor_of(request))[0]


@router.get("/contacts/{contact_id}/emails", response={200: list[EmailOut], **errors(404)})
@paginate(Page)
def list_emails(request: HttpRequest, contact_id: Id) -> list[dict[str, Any]]:
    """The primary address first, then the aliases."""
    contact = get_or_404(contacts(), contact_id, "contact")
    aliases = sorted(alias.email for alias in contact.aliases.all())
    return [
        {"email": contact.email, "primary": True},
        *({"email": email, "primary": False} for email in aliases),
    ]


@router.post("/contacts/{contact_id}/emails", response={201: EmailOut, **errors(404, 409)})
def add_email(request: HttpRequest, contact_id: Id, body: EmailIn) -> Status[dict[str, Any]]:
    """Add an alias: mail from it is matched to this contact."""
    contact = live_contact(contact_id)
    try:
        alias = add_alias(contact=contact, email=body.email, actor=actor_of(request))
    except ContactError as exc:
        raise conflict(str(exc)) from exc
    return Status(201, {"email": alias.email, "primary": False})


@router.delete(
    "/contacts/{contact_id}/emails/{email}",
    response={204: None, 404: ErrorOut, **errors(409)},
)
def remove_email(request: HttpRequest, contact_id: Id, email: Email) -> Status[None]:
    """Remove an alias (never the primary address)."""
    contact = live_contact(contact_id)
    try:
        address = normalize_email(email)
    except InvalidAddress as exc:
        raise invalid(str(exc)) from exc
    if address == contact.email:
        raise conflict(f"{address} is the primary address; it cannot be removed")
    if not contact.aliases.filter(email=address).exists():
        raise ApiError(404, "not_found", f"{address} is not an alias of contact {contact_id}")
    try:
        remove_alias(contact=contact, email=address, actor=actor_of(request))
    except ContactError as exc:
        raise conflict(str(exc)) from exc
    return Status(204, None)


class ContactDeletedOut(Schema):
    id: int
    deleted_at: dt.datetime
    enrollments_ended: int


@router.delete("/contacts/{contact_id}", response={200: ContactDeletedOut, **errors(403, 404, 409)})
def delete_contact_by_id(request: HttpRequest, contact_id: Id) -> dict[str, object]:
    """Delete a contact: its open enrollments end with reason ``contact_deleted``.

    Managers and admins delete any contact; a rep only a contact they own, and
    only when no open enrollment of it was made by someone else. The contact is
    soft-deleted: it leaves the lists (``include_deleted`` shows it), its history
    and the reports stay, and the ledger keeps a snapshot of it."""
    actor = actor_of(request)
    contact = live_contact(contact_id)
    check_may_delete_contact(actor, contact)
    ended = delete_contact(contact=contact, actor=actor)
    contact.refresh_from_db()
    assert contact.deleted_at is not None
    return {"id": contact.pk, "deleted_at": contact.deleted_at, "enrollments_ended": ended}
