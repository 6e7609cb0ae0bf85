"""Small helpers the contact and company pages share."""

from typing import Any

from django.core.paginator import Page
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from cadency.contacts.models import Contact


def get_contact(pk: int) -> Contact:
    return get_object_or_404(Contact.objects.select_related("company", "owner"), pk=pk)


def listing_context(request: HttpRequest, page: Page[Any]) -> dict[str, Any]:
    return {"page": page, "rows": list(page.object_list)}
