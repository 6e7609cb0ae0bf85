"""Personalisation tokens: ``{{ contact.first_name }}`` or ``{{ contact.first_name | "there" }}``.

A token with no value and no fallback refuses the enrollment (SPEC §2.2), so a
contact never receives "Hi ," or a raw ``{{ }}``.
"""

import re
from dataclasses import dataclass

from cadency.accounts.models import User
from cadency.contacts.models import Contact
from cadency.meetings.links_in_email import first_active_link_url

TOKEN = re.compile(
    r"""\{\{\s*(?P<name>[a-z_]+(?:\.[a-z0-9_]+)?)\s*(?:\|\s*"(?P<fallback>[^"]*)"\s*)?\}\}"""
)
ANY_BRACES = re.compile(r"\{\{.*?\}\}", re.DOTALL)

CONTACT_FIELDS = {"first_name", "last_name", "full_name", "email"}
SENDER_FIELDS = {"first_name", "last_name", "full_name", "email", "meeting_link"}


class TemplateError(Exception):
    """A template is malformed or names a token Cadency does not know."""


@dataclass(frozen=True)
class MissingToken(Exception):
    token: str

    def __str__(self) -> str:
        return f"the token {{{{ {self.token} }}}} has no value and no fallback"


def check_template(text: str) -> None:
    """Reject malformed tokens when a sequence is saved, not when it sends."""
    if "{{" in ANY_BRACES.sub("", text):
        raise TemplateError("a token is not closed: '{{' without '}}'")
    for raw in ANY_BRACES.findall(text):
        match = TOKEN.fullmatch(raw)
        if match is None:
            raise TemplateError(f"malformed token {raw!r}")
        namespace, _, field = match["name"].partition(".")
        if namespace not in {"contact", "company", "sender"} or not field:
            raise TemplateError(
                f"unknown token {match['name']!r}: use contact.*, company.name or sender.*"
            )
        if namespace == "company" and field != "name":
            raise TemplateError(f"unknown token {match['name']!r}: companies have company.name")
        if namespace == "sender" and field not in SENDER_FIELDS:
            raise TemplateError(f"unknown token {match['name']!r}")


def token_value(name: str, *, contact: Contact, sender: User) -> str:
    namespace, _, field = name.partition(".")
    if namespace == "contact":
        if field in CONTACT_FIELDS:
            return str(getattr(contact, field))
        return str(contact.properties.get(field, "") or "")
    if namespace == "company":
        return contact.company.name if contact.company else ""
    if namespace == "sender":
        if field == "meeting_link":
            return first_active_link_url(sender)
        return {
            "first_name": sender.first_name,
            "last_name": sender.last_name,
            "full_name": sender.get_full_name(),
            "email": sender.email,
        }[field]
    raise TemplateError(f"unknown token {name!r}")


def render(text: str, *, contact: Contact, sender: User) -> str:
    check_template(text)

    def substitute(match: re.Match[str]) -> str:
        value = token_value(match["name"], contact=contact, sender=sender).strip()
        if value:
            return value
        if match["fallback"] is not None:
            return match["fallback"]
        raise MissingToken(match["name"])

    return TOKEN.sub(substitute, text)
