"""Small builders for test data: fictitious people at reserved domains."""

import itertools
from typing import Any

from cadency.accounts.models import Role, User
from cadency.contacts.models import Company, CompanyDomain, Contact
from cadency.mailboxes.models import Health, Mailbox, Security, SentCopy
from cadency.sequences.models import Sequence
from cadency.sequences.services.authoring import create_sequence

_counter = itertools.count(1)


def make_user(username: str = "", role: Role = Role.REP, **fields: Any) -> User:
    username = username or f"rep{next(_counter)}"
    defaults: dict[str, Any] = {
        "email": f"{username}@example.test",
        "first_name": username.capitalize(),
        "last_name": "Example",
    }
    user = User(username=username, role=role, **{**defaults, **fields})
    user.set_password("correct horse battery staple")
    user.save()
    return user


def make_mailbox(user: User, email: str = "", **fields: Any) -> Mailbox:
    """A mailbox record; by default it points at the loopback test servers."""
    from tests.mailstack import mailstack_or_none

    stack = mailstack_or_none()
    defaults: dict[str, Any] = {
        "email": email or user.email,
        "username": email or user.email,
        "display_name": user.get_full_name(),
        "smtp_host": "127.0.0.1",
        "smtp_port": stack.smtp_port if stack else 2525,
        "smtp_security": Security.STARTTLS,
        "imap_host": "127.0.0.1",
        "imap_port": stack.imap_port if stack else 1143,
        "imap_security": Security.STARTTLS,
        "sent_copy": SentCopy.APPEND,
        "health": Health.OK,
        "daily_limit": 500,
        "per_minute_limit": 100,
        "time_zone": "UTC",
    }
    mailbox = Mailbox(user=user, **{**defaults, **fields})
    mailbox.set_secret(stack.password if stack else "secret")
    mailbox.save()
    return mailbox


def make_company(name: str = "Acme", domain: str = "acme.test") -> Company:
    company = Company.objects.create(name=name)
    CompanyDomain.objects.create(company=company, domain=domain)
    return company


def make_contact(email: str = "", **fields: Any) -> Contact:
    email = email or f"contact{next(_counter):03d}@acme.test"
    defaults: dict[str, Any] = {"first_name": "Jane", "last_name": "Doe"}
    return Contact.objects.create(email=email, **{**defaults, **fields})


ALWAYS_OPEN = {
    "send_window": ["00:00", "23:59:59"],
    "send_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    "business_days_only": False,
}


def make_sequence(
    owner: User, steps: list[dict[str, Any]] | None = None, **settings: Any
) -> Sequence:
    steps = steps or [
        {
            "type": "automated_email",
            "subject": "Quick question, {{ contact.first_name }}",
            "body": 'Hi {{ contact.first_name | "there" }},\n\nWould a short call help?',
        },
        {
            "type": "automated_email",
            "delay": 2,
            "body": "Hi {{ contact.first_name }}, just following up.",
        },
    ]
    return create_sequence(
        owner=owner,
        spec={
            "name": settings.pop("name", "Intro"),
            "settings": settings or ALWAYS_OPEN,
            "steps": steps,
        },
    )
