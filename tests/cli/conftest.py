"""Running management commands in-process and capturing what they print."""

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.fixtures import SettingsWrapper

from cadency.accounts.models import User
from cadency.contacts.models import Contact
from cadency.sequences.models import Enrollment, Sequence
from cadency.sequences.services.enrollment import enroll
from tests.factories import ALWAYS_OPEN, make_contact, make_mailbox, make_sequence


@dataclass
class Output:
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)


Run = Callable[..., Output]
Fails = Callable[..., Output]
Answer = Callable[[str], list[str]]


@pytest.fixture(autouse=True)
def fast_passwords(settings: SettingsWrapper) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def run() -> Run:
    """``run("unenroll", "12", "--as", "ada")`` → what it printed on stdout and stderr.

    A CommandError (exit status 1) propagates, as from call_command.
    """

    def runner(*args: str) -> Output:
        out, err = io.StringIO(), io.StringIO()
        call_command(*args, stdout=out, stderr=err)
        return Output(out.getvalue(), err.getvalue())

    return runner


@pytest.fixture
def fails() -> Fails:
    """``fails("enroll", ..., match="refused")``: it must exit 1 with a CommandError
    matching ``match``; returns what it printed before failing."""

    def runner(*args: str, match: str) -> Output:
        out, err = io.StringIO(), io.StringIO()
        with pytest.raises(CommandError, match=match) as raised:
            call_command(*args, stdout=out, stderr=err)
        assert raised.value.returncode == 1
        return Output(out.getvalue(), err.getvalue())

    return runner


@pytest.fixture
def answer(monkeypatch: pytest.MonkeyPatch) -> Answer:
    """Type ``text`` at the next confirmation prompt; the returned list records prompts."""
    asked: list[str] = []

    def set_answer(text: str) -> list[str]:
        def fake_input(prompt: str = "") -> str:
            asked.append(prompt)
            return text

        monkeypatch.setattr("builtins.input", fake_input)
        return asked

    return set_answer


TASK_FIRST = [
    {"type": "task", "title": 'Research {{ contact.first_name | "them" }}'},
    {"type": "automated_email", "delay": 3, "subject": "Hello", "body": "Hi there."},
]


def task_first_sequence(owner: User, name: str = "Intro") -> Sequence:
    """A sequence whose first step is a task, so enrolling needs no mail server."""
    return make_sequence(owner, steps=TASK_FIRST, name=name, **ALWAYS_OPEN)


def enrolled(user: User, sequence: Sequence, contact: Contact | None = None) -> Enrollment:
    if not user.mailboxes.exists():
        make_mailbox(user)
    return enroll(contact=contact or make_contact(), sequence=sequence, user=user)
