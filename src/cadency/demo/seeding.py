"""The demo's data: a rep with a mailbox on the loopback servers, contacts, a sequence.

Both steps can run any number of times: ``seed_demo`` creates what is missing,
points the mailbox at the servers' current ports and resets the rep's password
to the one the demo prints; ``enroll_demo_contacts`` enrolls every demo contact
that is not enrolled (again, after a reply ended its enrollment).
"""

from dataclasses import dataclass, field

from django.db import transaction

from cadency.accounts.models import Role, User
from cadency.accounts.services import create_user
from cadency.contacts.models import Contact
from cadency.contacts.services import upsert_contact
from cadency.mailboxes.models import Mailbox, Security, SentCopy
from cadency.mailboxes.services import add_mailbox
from cadency.sequences.models import Enrollment, Sequence
from cadency.sequences.selectors import open_enrollment_of
from cadency.sequences.services.authoring import create_sequence
from cadency.sequences.services.enrollment import enroll
from cadency.sequences.services.errors import EnrollmentRefused

REP_USERNAME = "rep"
REP_PASSWORD = "cadency-demo"  # noqa: S105 (printed on the console: a demo account)
REP_EMAIL = "rep@example.test"
MAIL_HOST = "127.0.0.1"
SEQUENCE_NAME = "Demo: introduction"

# (email, first name, last name, company, company domain): the mailboxes the
# loopback mail servers deliver to (scripts/services/lib.sh).
CONTACTS = [
    ("jane@acme.test", "Jane", "Doe", "Acme", "acme.test"),
    ("john@acme.test", "John", "Smith", "Acme", "acme.test"),
    ("mary@acme.test", "Mary", "Jones", "Acme", "acme.test"),
    ("ana@globex.test", "Ana", "Silva", "Globex", "globex.test"),
    ("bob@globex.test", "Bob", "Brown", "Globex", "globex.test"),
]

# Delays count in days (Cadency's smallest unit): the first email leaves at once,
# the follow-ups stay scheduled, so the enrollments are open while you try the demo.
SEQUENCE_SPEC = {
    "name": SEQUENCE_NAME,
    "settings": {
        "send_window": ["00:00", "23:59:59"],
        "send_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "business_days_only": False,
    },
    "steps": [
        {
            "type": "automated_email",
            "subject": 'Quick question about {{ company.name | "your team" }}',
            "body": (
                'Hi {{ contact.first_name | "there" }},\n\n'
                "Would a 15-minute call next week help you see how teams like yours "
                "follow up without the busywork?\n\n{{ sender.first_name }}"
            ),
        },
        {
            "type": "automated_email",
            "delay": 1,
            "body": (
                'Hi {{ contact.first_name | "there" }}, just bringing this back to the top '
                "of your inbox. Is Tuesday or Thursday better?\n\n{{ sender.first_name }}"
            ),
        },
        {
            "type": "automated_email",
            "delay": 2,
            "body": (
                'Hi {{ contact.first_name | "there" }}, I will stop here. If the timing '
                "is better later, just reply to this email.\n\n{{ sender.first_name }}"
            ),
        },
    ],
}


@dataclass(frozen=True)
class MailServers:
    """Where the loopback mail servers listen (from scripts/services' BASE/env)."""

    smtp_port: int
    imap_port: int
    password: str


@dataclass(frozen=True)
class DemoData:
    rep: User
    mailbox: Mailbox
    sequence: Sequence
    contacts: list[Contact]


@dataclass
class Enrolled:
    enrollments: list[Enrollment] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def seed_demo(servers: MailServers) -> DemoData:
    """Create (or bring up to date) the rep, the mailbox, the sequence and the contacts.

    Needs ``CADENCY_ALLOW_TEST_DOMAINS`` (the addresses are at *.test).
    """
    with transaction.atomic():
        rep = demo_rep()
        return DemoData(
            rep=rep,
            mailbox=demo_mailbox(rep, servers),
            sequence=demo_sequence(rep),
            contacts=[
                upsert_contact(
                    email=email,
                    first_name=first,
                    last_name=last,
                    company_name=company,
                    company_domain=domain,
                )[0]
                for email, first, last, company, domain in CONTACTS
            ],
        )


def enroll_demo_contacts(data: DemoData, *, run_first_step: bool = False) -> Enrolled:
    """Enroll every demo contact that has no open enrollment.

    The first emails are left to the worker unless ``run_first_step`` sends them now.
    """
    result = Enrolled()
    for contact in data.contacts:
        if open_enrollment_of(contact) is not None:
            continue
        try:
            result.enrollments.append(
                enroll(
                    contact=contact,
                    sequence=data.sequence,
                    user=data.rep,
                    mailbox=data.mailbox,
                    run_first_step=run_first_step,
                )
            )
        except EnrollmentRefused as refusal:
            result.refused.append(f"{contact.email}: {refusal}")
    return result


def demo_rep() -> User:
    rep = User.objects.filter(username=REP_USERNAME).first()
    if rep is None:
        return create_user(
            username=REP_USERNAME,
            email=REP_EMAIL,
            password=REP_PASSWORD,
            role=Role.REP,
            first_name="Alice",
            last_name="Martin",
        )
    rep.set_password(REP_PASSWORD)
    rep.is_active = True
    rep.save(update_fields=["password", "is_active"])
    return rep


def demo_mailbox(rep: User, servers: MailServers) -> Mailbox:
    mailbox = Mailbox.objects.filter(user=rep, email=REP_EMAIL).first()
    if mailbox is None:
        return add_mailbox(
            user=rep,
            email=REP_EMAIL,
            secret=servers.password,
            display_name=rep.get_full_name(),
            smtp_host=MAIL_HOST,
            smtp_port=servers.smtp_port,
            smtp_security=Security.STARTTLS,
            imap_host=MAIL_HOST,
            imap_port=servers.imap_port,
            imap_security=Security.STARTTLS,
            sent_copy=SentCopy.APPEND,
            per_minute_limit=100,
        )
    # The servers may listen on other ports than last time (a port offset).
    mailbox.smtp_host = mailbox.imap_host = MAIL_HOST
    mailbox.smtp_port, mailbox.imap_port = servers.smtp_port, servers.imap_port
    mailbox.smtp_security = mailbox.imap_security = Security.STARTTLS
    mailbox.set_secret(servers.password)
    mailbox.save()
    return mailbox


def demo_sequence(rep: User) -> Sequence:
    existing = Sequence.objects.filter(
        owner=rep, name=SEQUENCE_NAME, archived_at__isnull=True
    ).first()
    return existing or create_sequence(owner=rep, spec=SEQUENCE_SPEC)
