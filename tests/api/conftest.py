import pytest
from pytest_django.fixtures import SettingsWrapper

from cadency.accounts.models import Role, User
from tests.api.support import Api, api_for
from tests.factories import make_mailbox, make_user


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
def maya(db: None) -> User:
    """A manager: acts on every enrollment."""
    user = make_user("maya", role=Role.MANAGER, first_name="Maya", last_name="Manager")
    make_mailbox(user)
    return user


@pytest.fixture
def as_alice(alice: User) -> Api:
    return api_for(alice)


@pytest.fixture
def as_bob(bob: User) -> Api:
    return api_for(bob)


@pytest.fixture
def as_maya(maya: User) -> Api:
    return api_for(maya)
