"""Changing one field of a contact or a company: what people and workflows edit.

Field names are the ones automation speaks: ``lifecycle_stage``, ``owner``
(a username), ``first_name``, ``last_name``, ``time_zone`` and
``properties.<key>`` for custom properties (text; an empty value removes it).
"""

from typing import Any

from django.db import transaction

from cadency.accounts.models import User
from cadency.contacts.models import Company, Contact, LifecycleStage
from cadency.contacts.services import (
    ContactError,
    check_length,
    check_zone,
    record_contact_change,
    tracked_values,
)
from cadency.ledger.services import record_event

CONTACT_FIELDS = ("lifecycle_stage", "owner", "first_name", "last_name", "time_zone")
PROPERTY_PREFIX = "properties."
VALUE_LIMIT = 1000


def is_property_name(key: str) -> bool:
    return (
        0 < len(key) <= 100
        and (key[0].isalpha() or key[0] == "_")
        and all(c.isalnum() or c in "_-" for c in key)
    )


def property_key(field: str) -> str:
    key = field.removeprefix(PROPERTY_PREFIX).strip()
    if not is_property_name(key):
        raise ContactError(
            f"{field!r} is not a property name (a letter or _ first, then letters, digits, "
            "_ and -; at most 100)"
        )
    return key


def check_contact_field(field: str, value: str) -> str:
    """Raise ContactError unless ``value`` may be stored in ``field``; the clean value."""
    value = value.strip()
    check_length(value, VALUE_LIMIT, field)
    if field.startswith(PROPERTY_PREFIX):
        property_key(field)
        return value
    match field:
        case "lifecycle_stage":
            if value not in LifecycleStage.values:
                raise ContactError(
                    f"unknown lifecycle stage {value!r} ({', '.join(LifecycleStage.values)})"
                )
        case "owner":
            if value and not User.objects.filter(username=value, is_active=True).exists():
                raise ContactError(f"no active user is called {value!r}")
        case "first_name" | "last_name":
            check_length(value, 100, field)
        case "time_zone":
            check_zone(value)
        case _:
            raise ContactError(
                f"unknown contact field {field!r} "
                f"({', '.join(CONTACT_FIELDS)} or properties.<name>)"
            )
    return value


def set_contact_fields(
    *, contact: Contact, values: dict[str, str], actor: User | None
) -> list[str]:
    """Set several fields at once (one ledger event). Returns the fields that changed;
    raises ContactError, changing nothing, when one value is not acceptable."""
    clean = {field: check_contact_field(field, value) for field, value in values.items()}
    with transaction.atomic():
        locked = Contact.objects.select_for_update().get(pk=contact.pk)
        if locked.deleted_at is not None:
            raise ContactError(f"{locked.email} was deleted")
        before = tracked_values(locked)
        properties = dict(locked.properties)
        for field, value in clean.items():
            if field.startswith(PROPERTY_PREFIX):
                key = property_key(field)
                if value:
                    properties[key] = value
                else:
                    properties.pop(key, None)
            elif field == "owner":
                locked.owner = User.objects.get(username=value) if value else None
            else:
                setattr(locked, field, value)
        locked.properties = properties
        locked.save()
        record_contact_change(locked, before, False, actor)
        after = tracked_values(locked)
    contact.refresh_from_db()
    return [name for name in before if before[name] != after[name]]


def set_contact_field(*, contact: Contact, field: str, value: str, actor: User | None) -> bool:
    """Set one field; True when it changed."""
    return bool(set_contact_fields(contact=contact, values={field: value}, actor=actor))


def update_company(
    *, company: Company, actor: User | None, name: str = "", properties: dict[str, str]
) -> dict[str, list[Any]]:
    """Rename the company and/or set its properties (an empty value removes one).
    Returns ``{field: [old, new]}``; writes ``company_updated`` when anything changed."""
    name = check_length(name.strip(), 200, "name")
    clean = {
        property_key(key): check_length(str(v).strip(), VALUE_LIMIT, key)
        for key, v in properties.items()
    }
    with transaction.atomic():
        locked = Company.objects.select_for_update().get(pk=company.pk)
        changes: dict[str, list[Any]] = {}
        if name and name != locked.name:
            changes["name"] = [locked.name, name]
            locked.name = name
        updated = dict(locked.properties)
        for key, value in clean.items():
            old = updated.get(key)
            if value:
                updated[key] = value
            else:
                updated.pop(key, None)
            if updated.get(key) != old:
                changes[f"properties.{key}"] = [old, updated.get(key)]
        if not changes:
            return {}
        locked.properties = updated
        locked.save(update_fields=["name", "properties"])
        who = actor.display_name if actor else "Cadency"
        fields = ", ".join(changes).replace("properties.", "")
        record_event(
            kind="company_updated",
            actor=actor,
            sentence=f"{who} changed the {fields} of the company {locked.name}.",
            data={"company": locked.pk, "fields": list(changes), "changes": changes},
        )
    company.refresh_from_db()
    return changes
