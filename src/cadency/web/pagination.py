"""One page of a listing, chosen by the ``?page=`` query parameter."""

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet
from django.http import HttpRequest

PER_PAGE = 50
M = TypeVar("M", bound=Model)


def page_of(
    request: HttpRequest, rows: QuerySet[M], *, per_page: int = PER_PAGE, param: str = "page"
) -> Page[M]:
    """The requested page; a page number out of range or not a number gives the nearest page."""
    return Paginator(rows, per_page).get_page(request.GET.get(param))


def page_and_rows(
    request: HttpRequest, ordered: QuerySet[M], fetch: Callable[[QuerySet[M]], QuerySet[M]]
) -> tuple[Page[Any], list[M]]:
    """The requested page of ``ordered``, and that page's rows as ``fetch`` loads them.

    The page is chosen on the primary keys alone (narrow rows, no joins); only
    its rows are then loaded, by key, with their related objects. Three queries
    (count, keys, rows) whose cost stays flat however many rows match; a
    subquery instead of the key list lets PostgreSQL join every row first.
    ``fetch`` must order rows like ``ordered``.
    """
    keys = ordered.select_related(None).values_list("pk", flat=True)
    page: Page[Any] = page_of(request, keys)
    page.object_list = list(page.object_list)
    chosen = ordered.model._default_manager.filter(pk__in=page.object_list)
    return page, list(fetch(chosen))
