"""The companies list and a company's record: its domains, contacts and their enrollments."""

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from cadency.contacts.forms import CompanySearchForm
from cadency.contacts.models import Company, CompanyDomain, Contact
from cadency.contacts.views.common import listing_context
from cadency.sequences.models import Enrollment
from cadency.sequences.models.enrollment import OPEN_STATUSES
from cadency.web.pagination import page_of


def search_companies(text: str) -> Q:
    condition = Q()
    for word in text.split():
        condition &= Q(name__icontains=word) | Q(
            Exists(CompanyDomain.objects.filter(company=OuterRef("pk"), domain__icontains=word))
        )
    return condition


def company_rows(companies: QuerySet[Company]) -> QuerySet[Company]:
    """A page of companies with their counts, computed for the rows shown only."""
    contacts = (
        Contact.objects.filter(company=OuterRef("pk"), deleted_at=None)
        .values("company")
        .annotate(n=Count("pk"))
        .values("n")
    )
    enrolled = (
        Enrollment.objects.filter(
            contact__company=OuterRef("pk"), contact__deleted_at=None, status__in=OPEN_STATUSES
        )
        .values("contact__company")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        companies.annotate(
            contact_count=Coalesce(Subquery(contacts), 0),
            enrolled_count=Coalesce(Subquery(enrolled), 0),
        )
        .prefetch_related(Prefetch("domains", queryset=CompanyDomain.objects.order_by("domain")))
        .order_by("name", "pk")
    )


def company_list(request: HttpRequest) -> HttpResponse:
    form = CompanySearchForm(request.GET)
    form.is_valid()
    companies = Company.objects.all()
    if form.cleaned_data.get("q"):
        companies = companies.filter(search_companies(form.cleaned_data["q"]))
    page = page_of(request, company_rows(companies))
    return render(
        request,
        "contacts/company_list.html",
        {"form": form, "filtered": bool(form.cleaned_data.get("q"))}
        | listing_context(request, page),
    )


def company_record(request: HttpRequest, pk: int) -> HttpResponse:
    company = get_object_or_404(Company, pk=pk)
    enrollments = Enrollment.objects.select_related("sequence", "enrolled_by").order_by(
        "-started_at", "-pk"
    )
    contacts = (
        Contact.objects.filter(company=company, deleted_at=None)
        .select_related("owner")
        .prefetch_related(Prefetch("enrollments", queryset=enrollments))
        .order_by("last_name", "first_name", "email", "pk")
    )
    page = page_of(request, contacts)
    return render(
        request,
        "contacts/company_record.html",
        {
            "company": company,
            "domains": list(company.domains.order_by("domain")),
            "open_count": Enrollment.objects.filter(
                contact__company=company, contact__deleted_at=None, status__in=OPEN_STATUSES
            ).count(),
        }
        | listing_context(request, page),
    )
