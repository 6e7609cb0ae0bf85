"""Companies, with their domains."""

import datetime as dt
from typing import Annotated

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from cadency.api.common import Id, Text, get_or_404
from cadency.api.errors import errors
from cadency.api.pagination import Page
from cadency.contacts.models import Company

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
