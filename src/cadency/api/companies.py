"""Companies, with their domains."""

import datetime as dt
from typing import Annotated, Any

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import ConfigDict

from cadency.api.auth import actor_of
from cadency.api.common import Id, Text, get_or_404
from cadency.api.errors import errors, invalid
from cadency.api.pagination import Page
from cadency.contacts.editing import update_company
from cadency.contacts.models import Company
from cadency.contacts.services import ContactError

router = Router(tags=["companies"])


class CompanyOut(Schema):
    id: int
    name: str
    domains: list[str]
    contact_count: int
    created_at: dt.datetime

    @staticmethod
    def resolve_domains(obj: Company) -> list[str]:
        return sorted(d.domain for d in obj.domains.all())


class CompanyFilter(Schema):
    search: Annotated[Text, Field(max_length=200, description="in names and domains")] = ""


def companies() -> QuerySet[Company]:
    return Company.objects.prefetch_related("domains").annotate(
        contact_count=Count("contacts", filter=Q(contacts__deleted_at__isnull=True))
    )


@router.get("/companies", response={200: list[CompanyOut], **errors()})
@paginate(Page)
def list_companies(request: HttpRequest, filters: Query[CompanyFilter]) -> QuerySet[Company]:
    """Companies by name."""
    found = companies().order_by("name", "pk")
    text = filters.search.strip()
    if text:
        matching = Company.objects.filter(
            Q(name__icontains=text) | Q(domains__domain__icontains=text)
        ).values("pk")
        found = found.filter(pk__in=matching)
    return found


@router.get("/companies/{company_id}", response={200: CompanyOut, **errors(404)})
def get_company(request: HttpRequest, company_id: Id) -> Company:
    return get_or_404(companies(), company_id, "company")


PropertyName = Annotated[Text, Field(max_length=100, examples=["tier"])]


class CompanyUpdateIn(Schema):
    """Rename the company and/or set its custom properties. A name left out (or empty)
    keeps the current one; a property set to "" or null is removed, others are kept."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[Text, Field(max_length=200)] = ""
    properties: dict[PropertyName, Annotated[Text, Field(max_length=1000)] | None] = Field(
        default_factory=dict, max_length=200
    )


class CompanyUpdatedOut(Schema):
    """The company as ``CompanyOut`` shows it, with its properties and what changed."""

    id: int
    name: str
    domains: list[str]
    contact_count: int
    created_at: dt.datetime
    properties: dict[str, Any]
    changes: dict[str, list[Any]] = Field(
        description='what changed: {"name": [old, new], "properties.tier": [old, new]}'
    )


@router.patch("/companies/{company_id}", response={200: CompanyUpdatedOut, **errors(404)})
def update_company_by_id(
    request: HttpRequest, company_id: Id, body: CompanyUpdateIn
) -> dict[str, Any]:
    """Anyone may edit a company; a change is one ``company_updated`` event, to which
    dynamic lists over ``company.*`` fields and workflows react."""
    company = get_or_404(companies(), company_id, "company")
    try:
        changes = update_company(
            company=company,
            actor=actor_of(request),
            name=body.name,
            properties={key: value or "" for key, value in body.properties.items()},
        )
    except ContactError as exc:
        raise invalid(str(exc)) from exc
    updated = companies().get(pk=company.pk)
    return {
        "id": updated.pk,
        "name": updated.name,
        "domains": CompanyOut.resolve_domains(updated),
        "contact_count": updated.contact_count,  # type: ignore[attr-defined]
        "created_at": updated.created_at,
        "properties": updated.properties,
        "changes": changes,
    }
