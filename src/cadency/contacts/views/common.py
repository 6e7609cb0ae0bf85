"""Small helpers the contact and company pages share."""

from typing import Any, TypeVar

from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from cadency.accounts.models import User
from cadency.contacts.models import Contact

PER_PAGE = 50
M = TypeVar("M", bound=Model)


def signed_in_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User), "LoginRequiredMiddleware lets only signed-in users through"
    return user


def page_of(request: HttpRequest, rows: QuerySet[M], per_page: int = PER_PAGE) -> Page[M]:
    """The requested page; a page number out of range or not a number gives the nearest page."""
    return Paginator(rows, per_page).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The current filters as a query string, for the pagination links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def get_contact(pk: int) -> Contact:
    return get_object_or_404(Contact.objects.select_related("company", "owner"), pk=pk)


def listing_context(request: HttpRequest, page: Page[Any]) -> dict[str, Any]:
    return {"page": page, "rows": list(page.object_list), "query": query_without_page(request)}
