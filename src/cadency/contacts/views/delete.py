"""Deleting a contact from its record: it leaves the lists, its enrollments end
(``contact_deleted``), its history stays and the ledger keeps a snapshot."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from cadency.accounts.permissions import check_may_delete_contact
from cadency.contacts.views.common import get_contact
from cadency.sequences.services.enrollment import contact_label
from cadency.sequences.services.lifecycle import delete_contact
from cadency.web.requests import signed_in_user


@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = signed_in_user(request)
    contact = get_contact(pk)
    if contact.deleted_at is not None:
        messages.warning(request, f"{contact_label(contact)} was already deleted; nothing changed.")
        return redirect(f"/contacts/{contact.pk}/")
    check_may_delete_contact(actor, contact)
    ended = delete_contact(contact=contact, actor=actor)
    messages.success(
        request,
        f"Deleted {contact_label(contact)}; {ended} open enrollment{'s' if ended != 1 else ''} "
        "ended (contact deleted). Their history and the reports are kept.",
    )
    return redirect("/contacts/")
