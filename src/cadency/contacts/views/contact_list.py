"""The contacts list: search, filters, and each contact's current enrollment."""

from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cadency.contacts.forms import ContactFilterForm, EnrollmentState
from cadency.contacts.models import Contact, ContactEmail
from cadency.contacts.views.common import listing_context
from cadency.sequences.models import Enrollment
from cadency.sequences.models.enrollment import OPEN_STATUSES
from cadency.web.pagination import page_of


def search_contacts(text: str) -> Q:
    """Every word must match a name, an address (primary or alias) or the company."""
    condition = Q()
    for word in text.split():
        condition &= (
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(company__name__icontains=word)
            | Q(Exists(ContactEmail.objects.filter(contact=OuterRef("pk"), email__icontains=word)))
        )
    return condition


def filter_contacts(filters: dict[str, Any]) -> QuerySet[Contact]:
    contacts = Contact.objects.filter(deleted_at=None)
    if filters.get("q"):
        contacts = contacts.filter(search_contacts(filters["q"]))
    open_enrollments = Enrollment.objects.filter(contact=OuterRef("pk"), status__in=OPEN_STATUSES)
    if filters.get("sequence") is not None:
        contacts = contacts.filter(Exists(open_enrollments.filter(sequence=filters["sequence"])))
    if filters.get("enrollment") == EnrollmentState.ENROLLED:
        contacts = contacts.filter(Exists(open_enrollments))
    elif filters.get("enrollment") == EnrollmentState.NOT_ENROLLED:
        contacts = contacts.exclude(Exists(open_enrollments))
    if filters.get("owner") is not None:
        contacts = contacts.filter(owner=filters["owner"])
    if filters.get("company") is not None:
        contacts = contacts.filter(company=filters["company"])
    return contacts


def contact_rows(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """What a row shows, in a fixed number of queries: the open enrollment is prefetched."""
    current = Enrollment.objects.filter(status__in=OPEN_STATUSES).select_related(
        "sequence", "enrolled_by"
    )
    return (
        contacts.select_related("company", "owner")
        .prefetch_related(Prefetch("enrollments", queryset=current, to_attr="open_enrollments"))
        .order_by("last_name", "first_name", "email", "pk")
    )


def contact_list(request: HttpRequest) -> HttpResponse:
    form = ContactFilterForm(request.GET)
    # Filters that are valid apply even when another one is not; the bad one says why.
    form.is_valid()
    contacts = contact_rows(filter_contacts(form.cleaned_data))
    page = page_of(request, contacts)
    without_company = request.GET.copy()
    without_company.pop("company", None)
    without_company.pop("page", None)
    return render(
        request,
        "contacts/contact_list.html",
        {
            "form": form,
            "filtered": any(request.GET.get(f) for f in form.fields),
            "company": form.cleaned_data.get("company"),
            "without_company": without_company.urlencode(),
        }
        | listing_context(request, page),
    )
