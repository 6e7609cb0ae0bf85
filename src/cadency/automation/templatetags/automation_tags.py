"""The Lists section of a contact's record and the company's Edit link, as template
tags so the record views need no change:
``{% load automation_tags %}{% contact_lists contact %}`` and
``{% load automation_tags %}{% company_edit_link company %}``."""

from typing import Any

from django import template
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from cadency.automation.models import ContactList, ListKind, ListMembership
from cadency.contacts.models import Company, Contact
from cadency.contacts.permissions import may_edit_contact
from cadency.web.requests import signed_in_user

register = template.Library()

# The "Add to list" select offers the static lists by name, this many at most.
CHOICES_SHOWN = 200


@register.inclusion_tag("contacts/_record_lists.html", takes_context=True)
def contact_lists(context: template.Context, contact: Contact) -> dict[str, Any]:
    request = context["request"]
    assert isinstance(request, HttpRequest)
    memberships = list(
        ListMembership.objects.filter(contact=contact)
        .select_related("contact_list")
        .order_by("contact_list__name")
    )
    live = contact.deleted_at is None
    choices = (
        ContactList.objects.filter(kind=ListKind.STATIC)
        .exclude(memberships__contact=contact)
        .order_by("name")[:CHOICES_SHOWN]
        if live
        else []
    )
    return {
        "contact": contact,
        "memberships": memberships,
        "choices": list(choices),
        "live": live,
        "may_edit": live and may_edit_contact(signed_in_user(request), contact),
        "here": f"/contacts/{contact.pk}/#lists",
    }


@register.simple_tag
def company_edit_link(company: Company) -> SafeString:
    """The company's custom properties on one line, and its Edit link."""
    shown = format_html_join(
        " · ", "{} = {}", ((key, value) for key, value in sorted(company.properties.items()))
    )
    return format_html(
        '<p class="small"><a class="button secondary" href="/companies/{}/edit/">Edit company</a>'
        ' <span class="muted">{}</span></p>',
        company.pk,
        shown or "No custom properties.",
    )
