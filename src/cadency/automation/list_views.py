"""The list pages: every list, a new list, a list's members, its conditions.

Who: anyone signed in may see lists, create them and add or remove the contacts of a
static list; changing a dynamic list's conditions or deleting a list is for its
owner, a manager or an admin (403 otherwise, see ``services/list_admin.py``).
Rules live in ``services/lists.py``; these views parse input and show errors, and
an error changes nothing.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cadency.automation.conditions import (
    COMPANY_FIELDS,
    PLAIN_FIELDS,
    ConditionError,
    parse_conditions,
)
from cadency.automation.models import ContactList, ListKind, ListMembership
from cadency.automation.services.list_admin import (
    check_may_change_list,
    contact_by_address,
    count_matching,
    delete_list,
    lists_with_counts,
    may_change_list,
    members_of,
)
from cadency.automation.services.lists import (
    ListError,
    add_to_list,
    change_conditions,
    create_list,
    remove_from_list,
)
from cadency.contacts.models import Contact
from cadency.contacts.views.contact_list import search_contacts
from cadency.sequences.services.enrollment import contact_label
from cadency.web.pagination import page_of
from cadency.web.redirects import redirect_back
from cadency.web.requests import signed_in_user

OP_LABELS = {
    "is": "is",
    "is_not": "is not",
    "contains": "contains",
    "is_any_of": "is any of (separate with commas)",
    "is_set": "is set",
    "is_not_set": "is not set",
}
NO_VALUE_OPS = ("is_set", "is_not_set")
SEARCH_LIMIT = 10


@dataclass(frozen=True)
class Row:
    """One condition row of the form, as typed."""

    field: str = ""
    op: str = "is"
    value: str = ""

    @property
    def is_blank(self) -> bool:
        return not self.field.strip() and not self.value.strip()


def rows_from(data: QueryDict) -> list[Row]:
    fields, ops, values = data.getlist("field"), data.getlist("op"), data.getlist("value")
    count = max(len(fields), len(ops), len(values))

    def at(items: list[str], i: int, default: str = "") -> str:
        return items[i] if i < len(items) else default

    return [Row(at(fields, i), at(ops, i, "is"), at(values, i)) for i in range(count)]


def rows_of(conditions: Any) -> list[Row]:
    """A saved list's conditions as form rows."""
    rows = []
    for condition in parse_conditions(conditions):
        rows.append(Row(condition.field, condition.op, ", ".join(condition.value)))
    return rows


def conditions_of(rows: list[Row]) -> list[dict[str, Any]]:
    """The typed rows as conditions; blank rows are left out. Raises ListError."""
    conditions: list[dict[str, Any]] = []
    for number, row in enumerate(rows, start=1):
        if row.is_blank and row.op not in NO_VALUE_OPS:
            continue
        if not row.field.strip():
            raise ListError(f"condition {number}: choose a field")
        value: Any = row.value
        if row.op == "is_any_of":
            value = [part for part in row.value.split(",") if part.strip()]
        conditions.append({"field": row.field, "op": row.op, "value": value})
    return conditions


@dataclass(frozen=True)
class MatchCount:
    """The live "N contacts match" line: a count, or a note (a problem or a hint)."""

    count: int | None
    note: str = ""
    problem: bool = False

    def context(self) -> dict[str, Any]:
        return {"count": self.count, "count_note": self.note, "count_problem": self.problem}


def match_count(rows: list[Row]) -> MatchCount:
    try:
        conditions = conditions_of(rows)
        if not conditions:
            return MatchCount(None, "Add a condition to see how many contacts match.")
        return MatchCount(count_matching(conditions))
    except (ListError, ConditionError) as exc:
        return MatchCount(None, str(exc), problem=True)


def edited_rows(request: HttpRequest) -> tuple[list[Row], bool]:
    """The rows after an "Add condition" or "Remove" button; True when one was pressed
    (the page is shown again and nothing is saved)."""
    rows = rows_from(request.POST)
    if "add_condition" in request.POST:
        return [*rows, Row()], True
    remove = request.POST.get("remove_condition", "")
    if remove.isdigit():
        index = int(remove)
        return [row for i, row in enumerate(rows) if i != index] or [Row()], True
    return rows, False


def form_page(
    request: HttpRequest,
    template_context: dict[str, Any],
    rows: list[Row],
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = (
        template_context
        | match_count(rows).context()
        | {
            "rows": rows or [Row()],
            "ops": OP_LABELS.items(),
            "field_choices": [*PLAIN_FIELDS, *COMPANY_FIELDS, "properties.", "company.properties."],
            "error": error,
        }
    )
    return render(request, "automation/list_form.html", context, status=status)


def list_index(request: HttpRequest) -> HttpResponse:
    page = page_of(request, lists_with_counts())
    return render(
        request, "automation/list_index.html", {"page": page, "rows": list(page.object_list)}
    )


@require_http_methods(["GET", "HEAD", "POST"])
def list_new(request: HttpRequest) -> HttpResponse:
    """Create a list; for a dynamic one, conditions rows with a live count."""
    if request.method != "POST":
        return form_page(request, {"creating": True, "name": "", "kind": ListKind.DYNAMIC}, [])
    name = request.POST.get("name", "")
    kind = request.POST.get("kind", "")
    rows, only_editing = edited_rows(request)
    context = {"creating": True, "name": name, "kind": kind}
    if only_editing:
        return form_page(request, context, rows)
    try:
        conditions = conditions_of(rows) if kind != ListKind.STATIC else None
        contact_list = create_list(
            name=name, kind=kind, actor=signed_in_user(request), conditions=conditions
        )
    except ListError as exc:
        return form_page(request, context, rows, error=str(exc), status=400)
    count = contact_list.memberships.count()
    messages.success(
        request,
        f"Created the {contact_list.kind} list «{contact_list.name}»"
        + (f" with {count} contact{'s' if count != 1 else ''}." if count else "."),
    )
    return redirect(f"/lists/{contact_list.pk}/")


@require_http_methods(["GET", "HEAD", "POST"])
def list_conditions(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a dynamic list's conditions: its owner, a manager or an admin."""
    contact_list = get_object_or_404(ContactList, pk=pk)
    check_may_change_list(signed_in_user(request), contact_list)
    context = {"creating": False, "contact_list": contact_list}
    if contact_list.kind != ListKind.DYNAMIC:
        messages.error(request, f"«{contact_list.name}» is static: it has no conditions.")
        return redirect(f"/lists/{contact_list.pk}/")
    if request.method != "POST":
        return form_page(request, context, rows_of(contact_list.conditions))
    rows, only_editing = edited_rows(request)
    if only_editing:
        return form_page(request, context, rows)
    try:
        changed = change_conditions(
            contact_list=contact_list, conditions=conditions_of(rows), actor=signed_in_user(request)
        )
    except ListError as exc:
        contact_list.refresh_from_db()
        return form_page(request, context, rows, error=str(exc), status=400)
    messages.success(
        request,
        f"Saved the conditions of «{contact_list.name}»: {changed} "
        f"contact{'s' if changed != 1 else ''} joined or left.",
    )
    return redirect(f"/lists/{contact_list.pk}/")


@require_GET
def list_preview(request: HttpRequest) -> HttpResponse:
    """The live "N contacts match" line of the conditions form (htmx); writes nothing."""
    preview = match_count(rows_from(request.GET))
    return render(request, "automation/list_count.html", preview.context())


def detail_page(
    request: HttpRequest,
    contact_list: ContactList,
    *,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    actor = signed_in_user(request)
    listed = get_object_or_404(lists_with_counts(), pk=contact_list.pk)
    page = page_of(request, members_of(listed))
    conditions = parse_conditions(listed.conditions)
    context = {
        "contact_list": listed,
        "is_static": listed.kind == ListKind.STATIC,
        "conditions": [c.describe() for c in conditions],
        "may_change": may_change_list(actor, listed),
        "page": page,
        "rows": list(page.object_list),
        "here": request.get_full_path() if request.method == "GET" else f"/lists/{listed.pk}/",
        "query": "",
        "candidates": [],
        "member_error": "",
        "delete_error": "",
    } | extra
    return render(request, "automation/list_detail.html", context, status=status)


def list_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return detail_page(request, get_object_or_404(ContactList, pk=pk))


@require_POST
def list_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a list: its owner, a manager or an admin."""
    contact_list = get_object_or_404(ContactList, pk=pk)
    actor = signed_in_user(request)
    check_may_change_list(actor, contact_list)
    try:
        members = delete_list(contact_list=contact_list, actor=actor)
    except ListError as exc:
        return detail_page(request, contact_list, status=400, delete_error=str(exc))
    messages.success(
        request,
        f"Deleted the list «{contact_list.name}» ({members} contact{'s' if members != 1 else ''}"
        "). The contacts are kept, and so is their history.",
    )
    return redirect("/lists/")


def live_contacts() -> QuerySet[Contact]:
    return Contact.objects.filter(deleted_at__isnull=True)


def as_id(text: str) -> int | None:
    """An id typed in a form, or None when it cannot be one."""
    text = text.strip()
    return int(text) if text.isdigit() and len(text) <= 18 else None


def matching_contacts(contact_list: ContactList, text: str) -> list[Contact]:
    """Live contacts matching the words, not already in the list (a few)."""
    already = ListMembership.objects.filter(contact_list=contact_list, contact=OuterRef("pk"))
    return list(
        live_contacts()
        .filter(search_contacts(text))
        .exclude(Exists(already))
        .select_related("company")
        .order_by("last_name", "first_name", "email", "pk")[: SEARCH_LIMIT + 1]
    )


def chosen_contact(data: QueryDict) -> Contact:
    """The contact of an add form: ``contact`` (an id) or ``email``. Raises ListError."""
    ref = data.get("contact", "").strip()
    if ref:
        pk = as_id(ref)
        contact = live_contacts().filter(pk=pk).first() if pk else None
        if contact is None:
            raise ListError(f"there is no contact with id {ref!r}")
        return contact
    return contact_by_address(data.get("email", ""))


@require_POST
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a contact to a static list, by address, by id, or by a search that finds one."""
    contact_list = get_object_or_404(ContactList, pk=pk)
    query = request.POST.get("email", "").strip()
    try:
        if contact_list.kind != ListKind.STATIC:
            raise ListError(f"«{contact_list.name}» is dynamic: its conditions decide who is in it")
        if not request.POST.get("contact") and query and "@" not in query:
            found = matching_contacts(contact_list, query)
            if len(found) != 1:
                return detail_page(
                    request,
                    contact_list,
                    status=200 if found else 400,
                    query=query,
                    candidates=found[:SEARCH_LIMIT],
                    member_error="" if found else f"No contact outside the list matches «{query}».",
                )
            contact = found[0]
        elif not request.POST.get("contact") and not query:
            raise ListError("type the contact's address (or a name to search for)")
        else:
            contact = chosen_contact(request.POST)
        added = add_to_list(
            contact_list=contact_list, contact=contact, actor=signed_in_user(request)
        )
    except ListError as exc:
        return detail_page(request, contact_list, status=400, query=query, member_error=str(exc))
    label = contact_label(contact)
    if added:
        messages.success(request, f"Added {label} to «{contact_list.name}».")
    else:
        messages.info(request, f"{label} was already in «{contact_list.name}»; nothing changed.")
    return redirect_back(request, f"/lists/{contact_list.pk}/")


@require_POST
def member_remove(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    contact_list = get_object_or_404(ContactList, pk=pk)
    contact = get_object_or_404(Contact, pk=contact_pk)
    try:
        removed = remove_from_list(
            contact_list=contact_list, contact=contact, actor=signed_in_user(request)
        )
    except ListError as exc:
        return detail_page(request, contact_list, status=400, member_error=str(exc))
    label = contact_label(contact)
    if removed:
        messages.success(request, f"Removed {label} from «{contact_list.name}».")
    else:
        messages.info(request, f"{label} was not in «{contact_list.name}»; nothing changed.")
    return redirect_back(request, f"/lists/{contact_list.pk}/")


@require_POST
def join(request: HttpRequest) -> HttpResponse:
    """The contact record's "Add to list": a static list chosen in a select."""
    contact = get_object_or_404(Contact, pk=as_id(request.POST.get("contact", "")) or 0)
    fallback = f"/contacts/{contact.pk}/#lists"
    list_pk = as_id(request.POST.get("list", ""))
    contact_list = ContactList.objects.filter(pk=list_pk).first() if list_pk else None
    if contact_list is None:
        messages.error(request, "Choose a list to add the contact to; nothing changed.")
        return redirect_back(request, fallback)
    try:
        added = add_to_list(
            contact_list=contact_list, contact=contact, actor=signed_in_user(request)
        )
    except ListError as exc:
        messages.error(request, f"Not added: {exc}.")
        return redirect_back(request, fallback)
    label = contact_label(contact)
    if added:
        messages.success(request, f"Added {label} to «{contact_list.name}».")
    else:
        messages.info(request, f"{label} was already in «{contact_list.name}»; nothing changed.")
    return redirect_back(request, fallback)


@require_GET
def member_search(request: HttpRequest, pk: int) -> HttpResponse:
    """Contacts to add, as the address or name is typed (htmx)."""
    contact_list = get_object_or_404(ContactList, pk=pk)
    query = request.GET.get("email", "").strip()
    found = matching_contacts(contact_list, query) if len(query) >= 2 else []
    return render(
        request,
        "automation/list_search.html",
        {
            "contact_list": contact_list,
            "query": query,
            "candidates": found[:SEARCH_LIMIT],
            "more": len(found) > SEARCH_LIMIT,
        },
    )
