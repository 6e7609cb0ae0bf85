"""Builders shared by the sequence page tests: people, enrollments, a signed-in client."""

from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.test import Client

from cadency.accounts.models import Role, User
from cadency.sequences.models import Enrollment, Sequence
from cadency.sequences.services.enrollment import enroll
from tests.factories import make_contact, make_mailbox, make_user


def person(username: str, role: Role = Role.REP) -> User:
    user = make_user(username, role=role)
    make_mailbox(user)
    return user


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def enroll_some(
    user: User, sequence: Sequence, count: int, domain: str = "acme.test"
) -> list[Enrollment]:
    """``count`` contacts enrolled by ``user``; their first steps stay scheduled."""
    made = []
    for _ in range(count):
        contact = make_contact(f"{user.username}.{Enrollment.objects.count() + 1}@{domain}")
        made.append(enroll(contact=contact, sequence=sequence, user=user, run_first_step=False))
    return made


def messages_of(response: HttpResponse) -> list[str]:
    request = getattr(response, "wsgi_request", None)
    return [str(m) for m in get_messages(request)] if request is not None else []
