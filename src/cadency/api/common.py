"""Types and small schemas every resource shares."""

import datetime as dt
from typing import Annotated, Any, TypeVar

from django.db.models import Model, QuerySet
from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator

from cadency.accounts.models import User
from cadency.api.errors import not_found
from cadency.contacts.models import Contact

MAX_ID = 2**63 - 1
MAX_TEXT = 1000


def clean_text(value: str) -> str:
    """Refuse what no database column can hold: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def clean_json(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# In JSON bodies numbers and booleans must be JSON numbers and booleans, not "1" or 1.0.
BodyId = Annotated[int, Field(ge=1, le=MAX_ID, strict=True)]
BodyInt = Annotated[int, Field(strict=True)]
BodyBool = Annotated[bool, Field(strict=True)]
Text = Annotated[
    str,
    Field(max_length=MAX_TEXT, json_schema_extra={"pattern": "^[^\\u0000]*$"}),
    AfterValidator(clean_text),
]
LongText = Annotated[str, Field(max_length=100_000), AfterValidator(clean_text)]


def require_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 date-time string")
    return value


IsoDateTime = Annotated[dt.datetime, BeforeValidator(require_text)]
JsonObject = Annotated[dict[str, Any], AfterValidator(clean_json)]

M = TypeVar("M", bound=Model)


def get_or_404(queryset: QuerySet[M], pk: int, what: str) -> M:
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise not_found(what, pk)
    return found


def check_exists(queryset: QuerySet[M], pk: int | None, what: str) -> None:
    """A filter naming an unknown object is an error, not an empty list."""
    if pk is not None and not queryset.filter(pk=pk).exists():
        raise not_found(what, pk)


class UserRef(Schema):
    id: int
    username: str
    name: str

    @staticmethod
    def resolve_name(obj: User) -> str:
        return obj.display_name


class ContactRef(Schema):
    id: int
    email: str
    name: str

    @staticmethod
    def resolve_name(obj: Contact) -> str:
        return obj.full_name


class CompanyRef(Schema):
    id: int
    name: str


class SequenceRef(Schema):
    id: int
    name: str


class MailboxRef(Schema):
    id: int
    email: str
