"""Contact lists: static (people add and remove contacts) and dynamic (every contact
matching conditions over contact and company fields).

Anyone may read lists, create them and add or remove the contacts of a static list;
changing a dynamic list's conditions or deleting a list is for its owner, a manager
or an admin (403 otherwise).
"""

import datetime as dt
from typing import Annotated, Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import ConfigDict

from cadency.api.auth import actor_of
from cadency.api.common import BodyId, ContactRef, Id, Text, UserRef, check_exists, get_or_404
from cadency.api.errors import ApiError, ErrorOut, conflict, errors, invalid
from cadency.api.pagination import Page
from cadency.automation.conditions import describe, parse_conditions
from cadency.automation.models import ContactList, ListKind, ListMembership
from cadency.automation.services.list_admin import (
    check_may_change_list,
    delete_list,
    lists_with_counts,
    members_of,
)
from cadency.automation.services.lists import (
    ListError,
    add_to_list,
    change_conditions,
    create_list,
    remove_from_list,
)
from cadency.contacts.models import Contact

router = Router(tags=["lists"])

Op = Literal["is", "is_not", "contains", "is_any_of", "is_set", "is_not_set"]
Value = Annotated[Text, Field(max_length=1000)]


class ConditionIn(Schema):
    """``{"field": "lifecycle_stage", "op": "is", "value": "customer"}``; fields:
    email, first_name, last_name, lifecycle_stage, owner (a username), time_zone,
    properties.<name>, company.name, company.domain, company.properties.<name>."""

    model_config = ConfigDict(extra="forbid")

    field: Annotated[Text, Field(max_length=200, examples=["lifecycle_stage"])]
    op: Op = "is"
    value: Value | Annotated[list[Value], Field(max_length=100)] = ""


class ConditionOut(Schema):
    field: str
    op: str
    value: str | list[str]


class ListOut(Schema):
    id: int
    name: str
    kind: ListKind
    conditions: list[ConditionOut]
    description: str = Field(description="the conditions in words (dynamic lists)")
    owner: UserRef | None
    member_count: int = Field(description="live contacts in the list")
    created_at: dt.datetime

    @staticmethod
    def resolve_description(obj: ContactList) -> str:
        if obj.kind != ListKind.DYNAMIC:
            return ""
        return describe(parse_conditions(obj.conditions))


class ListIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[Text, Field(max_length=200, examples=["Customers in France"])]
    kind: ListKind
    conditions: list[ConditionIn] = Field(
        default_factory=list, max_length=50, description="dynamic lists only: all must match"
    )


class ConditionsIn(Schema):
    model_config = ConfigDict(extra="forbid")

    conditions: list[ConditionIn] = Field(max_length=50)


class ListFilter(Schema):
    kind: ListKind | None = None
    contact: Id | None = Field(None, description="only the lists this contact is in")


class MemberOut(Schema):
    contact: ContactRef
    added_at: dt.datetime


class MemberIn(Schema):
    model_config = ConfigDict(extra="forbid")

    contact: BodyId


def conditions_json(conditions: list[ConditionIn]) -> list[dict[str, Any]]:
    return [c.model_dump() for c in conditions]


def get_list(list_id: int) -> ContactList:
    return get_or_404(lists_with_counts(), list_id, "list")


@router.get("/lists", response={200: list[ListOut], **errors(404)})
@paginate(Page)
def list_lists(request: HttpRequest, filters: Query[ListFilter]) -> QuerySet[ContactList]:
    """Lists by name."""
    check_exists(Contact.objects.all(), filters.contact, "contact")
    found = lists_with_counts()
    if filters.kind is not None:
        found = found.filter(kind=filters.kind)
    if filters.contact is not None:
        found = found.filter(
            pk__in=ListMembership.objects.filter(contact_id=filters.contact).values("contact_list")
        )
    return found


@router.post("/lists", response={201: ListOut, **errors()})
def create_contact_list(request: HttpRequest, body: ListIn) -> Status[ContactList]:
    """Create a list; a dynamic one is filled with the contacts matching now."""
    try:
        created = create_list(
            name=body.name,
            kind=body.kind.value,
            actor=actor_of(request),
            conditions=conditions_json(body.conditions),
        )
    except ListError as exc:
        raise invalid(str(exc)) from exc
    return Status(201, get_list(created.pk))


@router.get("/lists/{list_id}", response={200: ListOut, **errors(404)})
def get_contact_list(request: HttpRequest, list_id: Id) -> ContactList:
    return get_list(list_id)


@router.patch("/lists/{list_id}", response={200: ListOut, **errors(403, 404, 409)})
def change_list_conditions(request: HttpRequest, list_id: Id, body: ConditionsIn) -> ContactList:
    """New conditions for a dynamic list (its owner, a manager or an admin); contacts
    join and leave at once. A static list has none (409)."""
    contact_list = get_list(list_id)
    check_may_change_list(actor_of(request), contact_list)
    if contact_list.kind != ListKind.DYNAMIC:
        raise conflict(f"«{contact_list.name}» is static: it has no conditions")
    try:
        change_conditions(
            contact_list=contact_list,
            conditions=conditions_json(body.conditions),
            actor=actor_of(request),
        )
    except ListError as exc:
        raise invalid(str(exc)) from exc
    return get_list(list_id)


@router.delete(
    "/lists/{list_id}", response={204: None, 403: ErrorOut, 404: ErrorOut, **errors(409)}
)
def delete_contact_list(request: HttpRequest, list_id: Id) -> Status[None]:
    """Delete a list (its owner, a manager or an admin). The contacts stay, and so does
    their history; 409 while a workflow or an unenrollment trigger uses the list."""
    contact_list = get_list(list_id)
    actor = actor_of(request)
    check_may_change_list(actor, contact_list)
    try:
        delete_list(contact_list=contact_list, actor=actor)
    except ListError as exc:
        raise conflict(str(exc)) from exc
    return Status(204, None)


@router.get("/lists/{list_id}/members", response={200: list[MemberOut], **errors(404)})
@paginate(Page)
def list_members(request: HttpRequest, list_id: Id) -> QuerySet[ListMembership]:
    """The list's live contacts, most recently added first."""
    return members_of(get_list(list_id))


@router.post(
    "/lists/{list_id}/members", response={200: MemberOut, 201: MemberOut, **errors(404, 409)}
)
def add_member(request: HttpRequest, list_id: Id, body: MemberIn) -> Status[ListMembership]:
    """Add a contact to a static list (201; 200 when it was already there). A dynamic
    list's conditions decide who is in it (409)."""
    contact_list = get_list(list_id)
    contact = get_or_404(Contact.objects.all(), body.contact, "contact")
    try:
        added = add_to_list(contact_list=contact_list, contact=contact, actor=actor_of(request))
    except ListError as exc:
        raise conflict(str(exc)) from exc
    membership = ListMembership.objects.select_related("contact").get(
        contact_list=contact_list, contact=contact
    )
    return Status(201 if added else 200, membership)


@router.delete(
    "/lists/{list_id}/members/{contact_id}",
    response={204: None, 404: ErrorOut, **errors(409)},
)
def remove_member(request: HttpRequest, list_id: Id, contact_id: Id) -> Status[None]:
    """Take a contact out of a static list (409 for a dynamic list)."""
    contact_list = get_list(list_id)
    contact = get_or_404(Contact.objects.all(), contact_id, "contact")
    try:
        removed = remove_from_list(
            contact_list=contact_list, contact=contact, actor=actor_of(request)
        )
    except ListError as exc:
        raise conflict(str(exc)) from exc
    if not removed:
        raise ApiError(404, "not_found", f"contact {contact_id} is not in the list {list_id}")
    return Status(204, None)
