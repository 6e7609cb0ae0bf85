"""One pagination scheme for every list: ``?limit=&offset=``, answered with
``{"items": [...], "count": N, "limit": L, "offset": O}``."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_OFFSET = 2**53


class Page(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="items per page")
        offset: int = Field(0, ge=0, le=MAX_OFFSET, description="items to skip")

    class Output(Schema):
        items: list[Any]
        count: int = Field(description="how many items match, on every page")
        limit: int
        offset: int

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_LIMIT, **kwargs)

    def paginate_queryset(
        self,
        queryset: QuerySet[Any],
        pagination: Any,
        request: HttpRequest,
        **params: Any,
    ) -> Any:
        page = super().paginate_queryset(queryset, pagination, request, **params)
        return {**page, "limit": pagination.limit, "offset": pagination.offset}
