"""Personas and helpers for the contact and company page tests."""

import pytest

from cadency.accounts.models import Role, User
from cadency.sequences.models import Sequence
from tests.factories import make_mailbox, make_sequence, make_user


@pytest.fixture
def alice() -> User:
    """A rep with a working mailbox."""
    user = make_user("alice", first_name="Alice", last_name="Archer")
    make_mailbox(user)
    return user


@pytest.fixture
def bob() -> User:
    """Another rep with a working mailbox."""
    user = make_user("bob", first_name="Bob", last_name="Baker")
    make_mailbox(user)
    return user


@pytest.fixture
def manager() -> User:
    user = make_user("maya", role=Role.MANAGER, first_name="Maya", last_name="Manager")
    make_mailbox(user)
    return user


@pytest.fixture
def sequence(alice: User) -> Sequence:
    return make_sequence(alice, name="Intro")
