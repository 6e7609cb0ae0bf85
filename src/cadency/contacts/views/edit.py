"""Editing a contact (name, lifecycle stage, owner, time zone, custom properties) and
a company (name, custom properties).

Who: a contact's owner, anyone when it has no owner, managers and admins
(``contacts.permissions``; 403 otherwise); anyone signed in edits a company.
Saving goes through ``contacts.editing`` (one ledger event for all the changes); an
error shows its message and changes nothing. "Add property" and "Remove" redraw
the form without saving, so the page works without JavaScript.
"""

from dataclasses import dataclass, field
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from cadency.accounts.models import User
from cadency.contacts.editing import PROPERTY_PREFIX, set_contact_fields, update_company
from cadency.contacts.models import Company, Contact, LifecycleStage
from cadency.contacts.permissions import check_may_edit_contact
from cadency.contacts.services import ContactError
from cadency.contacts.views.common import get_contact
from cadency.web.requests import signed_in_user

PLAIN_FIELDS = ("first_name", "last_name", "lifecycle_stage", "owner", "time_zone")


@dataclass(frozen=True)
class PropertyRow:
    key: str = ""
    value: str = ""


@dataclass
class PropertyRows:
    """The custom-property rows of the form, and the keys the page started with (a
    key that was there and is no longer in the rows is removed on save)."""

    rows: list[PropertyRow]
    known_keys: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, properties: dict[str, Any]) -> "PropertyRows":
        items = sorted(properties.items())
        return cls([PropertyRow(k, str(v)) for k, v in items], [k for k, _ in items])

    @classmethod
    def posted(cls, data: QueryDict) -> "PropertyRows":
        keys, values = data.getlist("property_key"), data.getlist("property_value")
        rows = [
            PropertyRow(key, values[i] if i < len(values) else "") for i, key in enumerate(keys)
        ]
        return cls(rows, data.getlist("known_key"))

    def edited(self, data: QueryDict) -> bool:
        """Apply an "Add property" or "Remove" button; True when one was pressed."""
        if "add_property" in data:
            self.rows.append(PropertyRow())
            return True
        remove = data.get("remove_property", "")
        if remove.isdigit():
            index = int(remove)
            self.rows = [row for i, row in enumerate(self.rows) if i != index]
            return True
        return False

    def changes(self, current: dict[str, Any]) -> dict[str, str]:
        """``{key: new value}`` for what differs from ``current``; an empty value
        removes the key. Raises ContactError for a nameless or repeated property."""
        wanted: dict[str, str] = {}
        for number, row in enumerate(self.rows, start=1):
            key, value = row.key.strip(), row.value.strip()
            if not key and not value:
                continue
            if not key:
                raise ContactError(f"property {number}: give it a name")
            if key in wanted:
                raise ContactError(f"the property {key!r} appears twice")
            wanted[key] = value
        changes = {key: "" for key in self.known_keys if key not in wanted and key in current}
        changes |= {
            key: value for key, value in wanted.items() if str(current.get(key, "")) != value
        }
        return changes

    def context(self) -> dict[str, Any]:
        return {"property_rows": self.rows or [PropertyRow()], "known_keys": self.known_keys}


@cache
def zone_names() -> list[str]:
    return sorted(available_timezones())


def owner_choices(contact: Contact) -> list[tuple[str, str]]:
    users = list(User.objects.filter(is_active=True).order_by("username"))
    if contact.owner is not None and not contact.owner.is_active:
        users.insert(0, contact.owner)
    return [(u.username, u.display_name + ("" if u.is_active else " (deactivated)")) for u in users]


def contact_values(contact: Contact) -> dict[str, str]:
    return {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "lifecycle_stage": contact.lifecycle_stage,
        "owner": contact.owner.username if contact.owner else "",
        "time_zone": contact.time_zone,
    }


def contact_page(
    request: HttpRequest,
    contact: Contact,
    values: dict[str, str],
    rows: PropertyRows,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "contact": contact,
        "values": values,
        "stages": LifecycleStage.choices,
        "owners": owner_choices(contact),
        "zones": zone_names(),
        "error": error,
    } | rows.context()
    return render(request, "contacts/contact_edit.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def edit_contact(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_contact(pk)
    actor = signed_in_user(request)
    check_may_edit_contact(actor, contact)
    current = contact_values(contact)
    if contact.deleted_at is not None:
        messages.error(request, f"{contact.email} was deleted; it can no longer change.")
        return redirect(f"/contacts/{contact.pk}/")
    if request.method != "POST":
        return contact_page(request, contact, current, PropertyRows.of(contact.properties))
    values = {name: request.POST.get(name, "").strip() for name in PLAIN_FIELDS}
    rows = PropertyRows.posted(request.POST)
    if rows.edited(request.POST):
        return contact_page(request, contact, values, rows)
    try:
        changes = {name: value for name, value in values.items() if value != current[name]}
        changes |= {
            PROPERTY_PREFIX + key: value for key, value in rows.changes(contact.properties).items()
        }
        changed = set_contact_fields(contact=contact, values=changes, actor=actor)
    except ContactError as exc:
        return contact_page(request, contact, values, rows, error=str(exc), status=400)
    if changed:
        messages.success(request, f"Saved the changes to {contact.email}.")
    else:
        messages.info(request, "Nothing changed.")
    return redirect(f"/contacts/{contact.pk}/")


def company_page(
    request: HttpRequest,
    company: Company,
    name: str,
    rows: PropertyRows,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {"company": company, "name": name, "error": error} | rows.context()
    return render(request, "contacts/company_edit.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def edit_company(request: HttpRequest, pk: int) -> HttpResponse:
    company = get_object_or_404(Company, pk=pk)
    if request.method != "POST":
        return company_page(request, company, company.name, PropertyRows.of(company.properties))
    name = request.POST.get("name", "").strip()
    rows = PropertyRows.posted(request.POST)
    if rows.edited(request.POST):
        return company_page(request, company, name, rows)
    try:
        if not name:
            raise ContactError("give the company a name")
        changes = update_company(
            company=company,
            actor=signed_in_user(request),
            name=name,
            properties=rows.changes(company.properties),
        )
    except ContactError as exc:
        return company_page(request, company, name, rows, error=str(exc), status=400)
    if changes:
        messages.success(request, f"Saved the changes to {company.name}.")
    else:
        messages.info(request, "Nothing changed.")
    return redirect(f"/companies/{company.pk}/")
