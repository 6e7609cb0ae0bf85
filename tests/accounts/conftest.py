import pytest
from pytest_django.fixtures import SettingsWrapper

from cadency.accounts.models import Role, User
from tests.factories import make_user


@pytest.fixture(autouse=True)
def fast_passwords(settings: SettingsWrapper) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice(db: None) -> User:
    return make_user("alice", first_name="Alice", last_name="Archer")


@pytest.fixture
def bob(db: None) -> User:
    return make_user("bob", first_name="Bob", last_name="Baker")


@pytest.fixture
def admin(db: None) -> User:
    return make_user(
        "ada",
        role=Role.ADMIN,
        first_name="Ada",
        last_name="Admin",
        is_staff=True,
        is_superuser=True,
    )
