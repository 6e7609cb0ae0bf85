"""Adding and removing a contact's additional addresses (aliases) from its record."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from cadency.contacts import services
from cadency.contacts.forms import AliasForm
from cadency.contacts.services import ContactError
from cadency.contacts.views.common import get_contact
from cadency.contacts.views.contact_record import render_record
from cadency.web.requests import signed_in_user

DELETED = "This contact was deleted; its addresses can no longer change."


@require_POST
def add_alias(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_contact(pk)
    form = AliasForm(request.POST)
    if contact.deleted_at is not None:
        form.add_error(None, DELETED)
    elif form.is_valid():
        try:
            alias = services.add_alias(
                contact=contact, email=form.cleaned_data["email"], actor=signed_in_user(request)
            )
        except ContactError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(request, f"Added {alias.email} to {contact.email}.")
            return redirect(f"/contacts/{contact.pk}/#addresses")
    return render_record(request, contact, status=400, alias_form=form)


@require_POST
def remove_alias(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_contact(pk)
    email = request.POST.get("email", "").strip()
    if contact.deleted_at is not None:
        return render_record(request, contact, status=400, alias_error=DELETED)
    if not email:
        return render_record(
            request, contact, status=400, alias_error="Say which address to remove."
        )
    try:
        services.remove_alias(contact=contact, email=email, actor=signed_in_user(request))
    except ContactError as exc:
        return render_record(request, contact, status=400, alias_error=str(exc))
    messages.success(request, f"Removed {email} from {contact.email}.")
    return redirect(f"/contacts/{contact.pk}/#addresses")
