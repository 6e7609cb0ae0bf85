"""The Meetings sections of the contact and company records, as template tags so the
record views need no change: ``{% load meeting_sections %}{% contact_meetings contact %}``."""

from typing import Any

from django import template
from django.http import HttpRequest

from cadency.contacts.models import Company, Contact
from cadency.meetings.views import (
    company_contacts,
    meetings_of_company,
    meetings_of_contact,
    section_context,
)
from cadency.meetings.views_forms import MeetingForm
from cadency.web.requests import signed_in_user

register = template.Library()


def _request(context: template.Context) -> HttpRequest:
    request = context["request"]
    assert isinstance(request, HttpRequest)
    return request


@register.inclusion_tag("meetings/_contact_meetings.html", takes_context=True)
def contact_meetings(context: template.Context, contact: Contact) -> dict[str, Any]:
    request = _request(context)
    form = MeetingForm.blank(signed_in_user(request), contact=contact)
    action = f"/contacts/{contact.pk}/meetings/new/"
    return {"contact": contact} | section_context(
        request, meetings_of_contact(contact), form, action
    )


@register.inclusion_tag("meetings/_company_meetings.html", takes_context=True)
def company_meetings(context: template.Context, company: Company) -> dict[str, Any]:
    request = _request(context)
    form = MeetingForm.blank(signed_in_user(request), choices=company_contacts(company))
    action = f"/companies/{company.pk}/meetings/new/"
    return {"company": company} | section_context(
        request, meetings_of_company(company), form, action
    )
