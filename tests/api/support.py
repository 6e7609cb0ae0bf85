"""Helpers for the API tests: an authenticated client, data builders, a snapshot."""

from dataclasses import dataclass
from typing import Any

from django.test import Client

from cadency.accounts.models import User
from cadency.accounts.tokens import create_token
from cadency.contacts.models import Contact, ContactEmail
from cadency.ledger.models import Event
from cadency.sequences.models import Enrollment, Sequence, StepRun, Task
from cadency.sequences.services.enrollment import enroll
from tests.factories import ALWAYS_OPEN, make_contact, make_mailbox, make_sequence

API = "/api/v1"


@dataclass
class Api:
    """A test client speaking JSON to /api/v1 with a bearer token (or none)."""

    client: Client

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"{API}{path}", params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(
            f"{API}{path}", body if body is not None else {}, content_type="application/json"
        )

    def patch(self, path: str, body: Any) -> Any:
        return self.client.patch(f"{API}{path}", body, content_type="application/json")

    def delete(self, path: str) -> Any:
        return self.client.delete(f"{API}{path}")


def api_for(user: User | None = None, *, token: str | None = None) -> Api:
    if token is None and user is not None:
        token = create_token(user=user, name="tests").secret
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return Api(Client(headers=headers))


def error_of(response: Any, status: int, code: str) -> str:
    """Assert a JSON error with this status and code; return its message."""
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code, body
    message: str = body["error"]["message"]
    assert message
    return message


TASK_FIRST = [
    {"type": "call", "title": 'Call {{ contact.first_name | "them" }}'},
    {"type": "automated_email", "delay": 3, "subject": "Hello", "body": "Hi there."},
]


def task_first_sequence(owner: User, name: str = "Intro") -> Sequence:
    """A sequence whose first step is a task, so enrolling needs no mail server."""
    return make_sequence(owner, steps=TASK_FIRST, name=name, **ALWAYS_OPEN)


def enrolled(user: User, sequence: Sequence, contact: Contact | None = None) -> Enrollment:
    if not user.mailboxes.exists():
        make_mailbox(user)
    return enroll(contact=contact or make_contact(), sequence=sequence, user=user)


def snapshot() -> tuple[Any, ...]:
    """Everything an API call could change; equal before and after = nothing changed."""
    return (
        list(Enrollment.objects.order_by("pk").values_list("pk", "status", "reason", "paused_at")),
        list(StepRun.objects.order_by("pk").values_list("pk", "state", "due_at")),
        list(Task.objects.order_by("pk").values_list("pk", "status")),
        list(Contact.objects.order_by("pk").values()),
        list(ContactEmail.objects.order_by("pk").values_list("pk", "email")),
        list(Sequence.objects.order_by("pk").values_list("pk", "name", "current_version")),
        Event.objects.count(),
    )
