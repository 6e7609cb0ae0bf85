"""Personas, data and clients for the sidebar tests."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import SettingsWrapper

from cadency.accounts.models import Role, User
from cadency.accounts.tokens import create_token
from cadency.contacts.models import Contact
from cadency.sequences.models import Enrollment, Sequence
from cadency.sequences.services.enrollment import enroll
from tests.factories import make_company, make_contact, make_mailbox, make_sequence, make_user


@pytest.fixture(autouse=True)
def fast_passwords(settings: SettingsWrapper) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice(db: None) -> User:
    """A rep with a working mailbox."""
    user = make_user("alice", first_name="Alice", last_name="Archer")
    make_mailbox(user)
    return user


@pytest.fixture
def bob(db: None) -> User:
    """Another rep with a working mailbox."""
    user = make_user("bob", first_name="Bob", last_name="Baker")
    make_mailbox(user)
    return user


@pytest.fixture
def manager(db: None) -> User:
    user = make_user("maya", role=Role.MANAGER, first_name="Maya", last_name="Manager")
    make_mailbox(user)
    return user


@pytest.fixture
def jane(alice: User) -> Contact:
    return make_contact(
        "jane@acme.test", first_name="Jane", last_name="Doe", company=make_company(), owner=alice
    )


@pytest.fixture
def intro(alice: User) -> Sequence:
    return make_sequence(alice, name="Intro")


def enrolled_later(contact: Contact, sequence: Sequence, user: User) -> Enrollment:
    """An open enrollment whose first step is due in two days: nothing is sent now."""
    return enroll(
        contact=contact,
        sequence=sequence,
        user=user,
        start_at=timezone.now() + dt.timedelta(days=2),
        run_first_step=False,
    )


@pytest.fixture
def enrollment(jane: Contact, intro: Sequence, alice: User) -> Enrollment:
    return enrolled_later(jane, intro, alice)


def token_of(user: User) -> str:
    return create_token(user=user, name="Gmail sidebar").secret


def bearer(user_or_token: User | str) -> Client:
    """A client that sends an API token, as the panel does, and no cookie or CSRF token."""
    token = user_or_token if isinstance(user_or_token, str) else token_of(user_or_token)
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token}"})
