"""The deals list, a deal's record (stage, contacts, meetings) and the new-deal form.

Any signed-in user may create and change deals: they are shared records, not a
user's enrollments (SPEC §1 limits reps only on enrollments)."""

from typing import Any

from django.contrib import messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cadency.contacts.models import Contact
from cadency.deals import services
from cadency.deals.forms import DealContactForm, DealFilterForm, DealForm, StageForm
from cadency.deals.models import Deal
from cadency.deals.services import DealError
from cadency.meetings.views import deal_contacts, meetings_of_deal, section_context
from cadency.meetings.views_forms import MeetingForm
from cadency.sequences.services.enrollment import contact_label
from cadency.web.pagination import page_of
from cadency.web.requests import signed_in_user


def filter_deals(filters: dict[str, Any]) -> QuerySet[Deal]:
    deals = Deal.objects.all()
    for word in (filters.get("q") or "").split():
        deals = deals.filter(Q(name__icontains=word) | Q(company__name__icontains=word))
    if filters.get("stage"):
        deals = deals.filter(stage=filters["stage"])
    return (
        deals.select_related("company", "owner")
        .annotate(contact_count=Count("contacts", distinct=True))
        .order_by("-created_at", "-pk")
    )


@require_GET
def deal_list(request: HttpRequest) -> HttpResponse:
    form = DealFilterForm(request.GET)
    form.is_valid()
    page = page_of(request, filter_deals(form.cleaned_data))
    context = {
        "form": form,
        "filtered": any(request.GET.get(f) for f in form.fields),
        "page": page,
        "rows": list(page.object_list),
    }
    return render(request, "deals/deal_list.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def new_deal(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        form = DealForm(initial={"company": request.GET.get("company")})
        return render(request, "deals/new_deal.html", {"form": form})
    form = DealForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            deal = services.create_deal(
                actor=signed_in_user(request),
                name=data["name"],
                stage=data["stage"],
                amount=data["amount"],
                company=data["company"],
                contacts=services.contacts_at(form.addresses()),
            )
        except DealError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, f"Created the deal «{deal.name}».")
            return redirect(f"/deals/{deal.pk}/")
    return render(request, "deals/new_deal.html", {"form": form}, status=400)


def record_page(
    request: HttpRequest,
    deal: Deal,
    *,
    status: int = 200,
    stage_form: StageForm | None = None,
    contact_form: DealContactForm | None = None,
    contact_error: str = "",
) -> HttpResponse:
    user = signed_in_user(request)
    choices = deal_contacts(deal)
    context = {
        "deal": deal,
        "contacts": list(choices),
        "stage_form": stage_form or StageForm(initial={"stage": deal.stage}),
        "contact_form": contact_form or DealContactForm(),
        "contact_error": contact_error,
    } | section_context(
        request,
        meetings_of_deal(deal),
        MeetingForm.blank(user, choices=choices),
        f"/deals/{deal.pk}/meetings/new/",
    )
    return render(request, "deals/deal_record.html", context, status=status)


def get_deal(pk: int) -> Deal:
    return get_object_or_404(Deal.objects.select_related("company", "owner"), pk=pk)


@require_GET
def deal_record(request: HttpRequest, pk: int) -> HttpResponse:
    return record_page(request, get_deal(pk))


@require_POST
def change_stage(request: HttpRequest, pk: int) -> HttpResponse:
    deal = get_deal(pk)
    form = StageForm(request.POST)
    if not form.is_valid():
        return record_page(request, deal, status=400, stage_form=form)
    before = deal.get_stage_display()
    if services.update_deal_stage(
        deal=deal, stage=form.cleaned_data["stage"], actor=signed_in_user(request)
    ):
        messages.success(
            request, f"Moved «{deal.name}» from {before} to {deal.get_stage_display()}."
        )
    else:
        messages.info(request, f"«{deal.name}» is already at {before}; nothing changed.")
    return redirect(f"/deals/{deal.pk}/")


@require_POST
def add_contact(request: HttpRequest, pk: int) -> HttpResponse:
    deal = get_deal(pk)
    form = DealContactForm(request.POST)
    if not form.is_valid():
        return record_page(request, deal, status=400, contact_form=form)
    try:
        [contact] = services.contacts_at([form.cleaned_data["email"]])
        added = services.add_deal_contact(deal=deal, contact=contact, actor=signed_in_user(request))
    except DealError as exc:
        form.add_error("email", str(exc))
        return record_page(request, deal, status=400, contact_form=form)
    who = contact_label(contact)
    if added:
        messages.success(request, f"Added {who} to «{deal.name}».")
    else:
        messages.info(request, f"{who} was already on «{deal.name}».")
    return redirect(f"/deals/{deal.pk}/#contacts")


@require_POST
def remove_contact(request: HttpRequest, pk: int) -> HttpResponse:
    deal = get_deal(pk)
    contact_id = request.POST.get("contact", "")
    contact = Contact.objects.filter(pk=int(contact_id)).first() if contact_id.isdigit() else None
    if contact is None:
        return record_page(request, deal, status=400, contact_error="Say which contact to remove.")
    try:
        services.remove_deal_contact(deal=deal, contact=contact, actor=signed_in_user(request))
    except DealError as exc:
        return record_page(request, deal, status=400, contact_error=str(exc))
    messages.success(request, f"Removed {contact_label(contact)} from «{deal.name}».")
    return redirect(f"/deals/{deal.pk}/#contacts")
