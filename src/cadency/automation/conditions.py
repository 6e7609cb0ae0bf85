"""Conditions over a contact and their company: dynamic lists, workflow filters and
unenrollment triggers speak this one small language.

A condition is ``{"field": ..., "op": ..., "value": ...}``; a list of conditions
matches when every one does. Fields: ``email``, ``first_name``, ``last_name``,
``lifecycle_stage``, ``owner`` (a username), ``time_zone``, ``properties.<key>``,
``company.name``, ``company.domain``, ``company.properties.<key>``. Values are text
and compared without regard to letter case.

Each condition is evaluated two ways that must agree: in Python for one contact
(``matches``) and as a query over many (``as_q``).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, OuterRef, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.lookups import Exact, IContains, IExact, IsNull

from cadency.contacts.editing import is_property_name
from cadency.contacts.models import CompanyDomain, Contact

OPS = ("is", "is_not", "contains", "is_any_of", "is_set", "is_not_set")
PLAIN_FIELDS = ("email", "first_name", "last_name", "lifecycle_stage", "owner", "time_zone")
COMPANY_FIELDS = ("company.name", "company.domain")


class ConditionError(ValueError):
    """A condition that cannot be understood; the message says which and why."""


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        value: Any = list(self.value) if self.op == "is_any_of" else "".join(self.value[:1])
        return {"field": self.field, "op": self.op, "value": value}

    def describe(self) -> str:
        shown = " or ".join(f"“{v}”" for v in self.value)
        match self.op:
            case "is" | "is_any_of":
                return f"{self.field} is {shown}"
            case "is_not":
                return f"{self.field} is not {shown}"
            case "contains":
                return f"{self.field} contains {shown}"
            case "is_set":
                return f"{self.field} is set"
            case _:
                return f"{self.field} is not set"


def check_field(field: str) -> str:
    field = field.strip()
    for prefix in ("properties.", "company.properties."):
        if field.startswith(prefix):
            key = field.removeprefix(prefix)
            if is_property_name(key):
                return field
            raise ConditionError(
                f"{field!r}: a property name starts with a letter or _, then letters, digits, "
                "_ and - (at most 100)"
            )
    if field in PLAIN_FIELDS or field in COMPANY_FIELDS:
        return field
    raise ConditionError(
        f"unknown field {field!r} (one of {', '.join(PLAIN_FIELDS + COMPANY_FIELDS)}, "
        "properties.<name> or company.properties.<name>)"
    )


def parse_condition(raw: Any) -> Condition:
    if not isinstance(raw, dict):
        raise ConditionError("a condition is an object with field, op and value")
    field = check_field(str(raw.get("field", "")))
    op = str(raw.get("op", "is"))
    if op not in OPS:
        raise ConditionError(f"unknown operator {op!r} (one of {', '.join(OPS)})")
    value = raw.get("value", "")
    if op in ("is_set", "is_not_set"):
        return Condition(field, op, ())
    values = value if isinstance(value, list) else [value]
    clean = tuple(str(v).strip() for v in values if str(v).strip())
    if not clean:
        raise ConditionError(f"{field} {op.replace('_', ' ')}: give a value")
    if op != "is_any_of" and len(clean) > 1:
        raise ConditionError(f"{field} {op}: one value only (use is_any_of for several)")
    return Condition(field, op, clean)


def parse_conditions(raw: Any) -> list[Condition]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise ConditionError("conditions are a list")
    return [parse_condition(item) for item in raw]


def as_json(conditions: Iterable[Condition]) -> list[dict[str, Any]]:
    return [c.as_json() for c in conditions]


def value_of(contact: Contact, field: str) -> str | None:
    """The field's value for this contact as text; None when not set."""
    company = contact.company
    if field.startswith("company."):
        if company is None:
            return None
        if field == "company.name":
            return company.name
        if field == "company.domain":
            domains = [d.domain for d in company.domains.all()]
            return " ".join(domains) if domains else None
        found = company.properties.get(field.removeprefix("company.properties."))
        return None if found in (None, "") else str(found)
    if field.startswith("properties."):
        found = contact.properties.get(field.removeprefix("properties."))
        return None if found in (None, "") else str(found)
    if field == "owner":
        return contact.owner.username if contact.owner else None
    found = getattr(contact, field)
    return str(found) if found else None


def _domain_matches(contact: Contact, condition: Condition) -> bool:
    company = contact.company
    domains = [d.domain.lower() for d in company.domains.all()] if company else []
    wanted = [v.lower() for v in condition.value]
    match condition.op:
        case "is" | "is_any_of":
            return any(d in wanted for d in domains)
        case "is_not":
            return not any(d in wanted for d in domains)
        case "contains":
            return any(wanted[0] in d for d in domains)
        case "is_set":
            return bool(domains)
        case _:
            return not domains


def condition_matches(contact: Contact, condition: Condition) -> bool:
    if condition.field == "company.domain":
        return _domain_matches(contact, condition)
    found = value_of(contact, condition.field)
    text = (found or "").lower()
    wanted = [v.lower() for v in condition.value]
    match condition.op:
        case "is" | "is_any_of":
            return found is not None and text in wanted
        case "is_not":
            return found is None or text not in wanted
        case "contains":
            return found is not None and wanted[0] in text
        case "is_set":
            return found is not None
        case _:
            return found is None


def matches(contact: Contact, conditions: Sequence[Condition]) -> bool:
    return all(condition_matches(contact, c) for c in conditions)


def _value(field: str) -> Any:
    """The field's value as a database expression (JSON properties read as text)."""
    if field == "owner":
        return F("owner__username")
    if field.startswith("company.properties."):
        return KeyTextTransform(field.removeprefix("company.properties."), "company__properties")
    if field.startswith("properties."):
        return KeyTextTransform(field.removeprefix("properties."), "properties")
    return F(field.replace(".", "__"))


def _domain_q(condition: Condition) -> Q:
    wanted = [v.lower() for v in condition.value]
    domains = CompanyDomain.objects.filter(company=OuterRef("company"))
    match condition.op:
        case "is" | "is_any_of":
            return Q(Exists(domains.filter(domain__in=wanted)))
        case "is_not":
            return ~Q(Exists(domains.filter(domain__in=wanted)))
        case "contains":
            return Q(Exists(domains.filter(domain__contains=wanted[0])))
        case "is_set":
            return Q(Exists(domains))
        case _:
            return ~Q(Exists(domains))


def condition_q(condition: Condition) -> Q:
    if condition.field == "company.domain":
        return _domain_q(condition)
    value = _value(condition.field)
    present = Q(IsNull(value, False)) & ~Q(Exact(value, ""))
    equal = Q()
    for wanted in condition.value:
        equal |= Q(IExact(value, wanted))
    match condition.op:
        case "is" | "is_any_of":
            return present & equal
        case "is_not":
            return ~(present & equal)
        case "contains":
            return present & Q(IContains(value, condition.value[0]))
        case "is_set":
            return present
        case _:
            return ~present


def as_q(conditions: Sequence[Condition], prefix: str = "") -> Q:
    """The conditions as a filter on Contact (or, with ``prefix="contact__"``, on a
    model with a ``contact`` foreign key)."""
    q = Q()
    for condition in conditions:
        q &= condition_q(condition)
    if not prefix:
        return q
    return Q(**{f"{prefix}in": Contact.objects.filter(q).values("pk")})


def describe(conditions: Sequence[Condition]) -> str:
    return " and ".join(c.describe() for c in conditions) or "every contact"
