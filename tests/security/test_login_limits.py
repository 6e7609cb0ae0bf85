"""Sign-in rate limiting (accounts/login_limits.py): guessing passwords gets slow."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import SettingsWrapper

from cadency.accounts.login_limits import lockout_for
from cadency.accounts.models import LoginFailure, Role, User
from tests.factories import make_user

PASSWORD = "correct horse battery staple"
GUESSER = "203.0.113.7"  # documentation range (RFC 5737)


@pytest.fixture(autouse=True)
def fast_passwords(settings: SettingsWrapper) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice(db: None) -> User:
    return make_user("alice")


@dataclass
class Attempt:
    client: Client
    response: Any  # the test client's response

    @property
    def signed_in(self) -> bool:
        return "_auth_user_id" in self.client.session


def sign_in(username: str, password: str, *, address: str = GUESSER, **headers: str) -> Attempt:
    client = Client(REMOTE_ADDR=address, headers=headers)
    response = client.post("/login/", {"username": username, "password": password})
    return Attempt(client, response)


def fail(username: str, times: int, *, address: str = GUESSER) -> None:
    for _ in range(times):
        attempt = sign_in(username, "not the password", address=address)
        assert attempt.response.status_code == 200 and not attempt.signed_in


def assert_paused(attempt: Attempt, whose: str) -> None:
    assert attempt.response.status_code == 429
    page = attempt.response.content.decode()
    assert f"Too many failed sign-ins for {whose}" in page and "Try again in 15 minutes" in page
    assert int(attempt.response["Retry-After"]) > 0
    assert not attempt.signed_in


def test_five_wrong_passwords_pause_the_username_with_a_clear_message(alice: User) -> None:
    fail("alice", 4)
    assert sign_in("alice", PASSWORD).signed_in  # four are not enough
    fail("alice", 5)
    assert_paused(sign_in("alice", "still guessing"), "this username")


def test_the_right_password_is_refused_during_the_pause(alice: User) -> None:
    fail("alice", 5)
    assert_paused(sign_in("alice", PASSWORD), "this username")
    assert_paused(sign_in("ALICE ", PASSWORD, address="198.51.100.1"), "this username")


def test_after_the_window_the_right_password_works_again(
    alice: User, settings: SettingsWrapper
) -> None:
    settings.CADENCY_LOGIN_LOCKOUT_SECONDS = 60
    fail("alice", 5)
    assert sign_in("alice", PASSWORD).response.status_code == 429
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61), tick=False):
        assert sign_in("alice", PASSWORD).signed_in


def test_refused_attempts_do_not_make_the_pause_longer(alice: User) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail("alice", 5)
    for minutes in (1, 5, 14):
        with time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False):
            assert sign_in("alice", "guess").response.status_code == 429
    assert LoginFailure.objects.count() == 5
    with time_machine.travel(start + dt.timedelta(minutes=15, seconds=1), tick=False):
        assert sign_in("alice", PASSWORD).signed_in


def test_a_successful_sign_in_clears_the_count(alice: User) -> None:
    fail("alice", 4)
    assert sign_in("alice", PASSWORD).signed_in
    fail("alice", 4)
    assert sign_in("alice", PASSWORD).signed_in
    assert not LoginFailure.objects.filter(username="alice").exists()


def test_other_users_are_not_affected(alice: User) -> None:
    make_user("bob")
    fail("alice", 5)
    assert sign_in("bob", PASSWORD).signed_in  # same address, under its limit
    assert sign_in("bob", PASSWORD, address="198.51.100.2").signed_in


def test_signing_in_to_ones_own_account_does_not_clear_a_guess_count_on_another(
    alice: User,
) -> None:
    make_user("mallory")
    fail("alice", 4)
    assert sign_in("mallory", PASSWORD).signed_in
    fail("alice", 1)
    assert_paused(sign_in("alice", PASSWORD), "this username")


def test_many_usernames_from_one_address_pause_that_address(
    alice: User, settings: SettingsWrapper
) -> None:
    settings.CADENCY_LOGIN_FAILURES_PER_ADDRESS = 6
    for index in range(6):
        fail(f"nobody{index}", 1)
    assert_paused(sign_in("alice", PASSWORD), "your network address")
    assert sign_in("alice", PASSWORD, address="198.51.100.3").signed_in


def test_a_forged_forwarded_for_header_does_not_escape_the_pause(alice: User) -> None:
    fail("alice", 5)
    assert_paused(sign_in("alice", PASSWORD, **{"X-Forwarded-For": "192.0.2.99"}), "this username")


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(
    alice: User, settings: SettingsWrapper
) -> None:
    settings.CADENCY_TRUSTED_PROXIES = 1
    settings.CADENCY_LOGIN_FAILURES_PER_ADDRESS = 3
    proxy = "10.0.0.5"
    for index in range(3):
        attempt = sign_in(f"x{index}", "guess", address=proxy, **{"X-Forwarded-For": GUESSER})
        assert not attempt.signed_in
    # The guesser is paused, however it spoofs the left of the header; others are not.
    spoofed = f"192.0.2.1, {GUESSER}"
    assert_paused(
        sign_in("alice", PASSWORD, address=proxy, **{"X-Forwarded-For": spoofed}),
        "your network address",
    )
    assert sign_in(
        "alice", PASSWORD, address=proxy, **{"X-Forwarded-For": "198.51.100.4"}
    ).signed_in


def test_the_admin_sign_in_is_limited_too(db: None) -> None:
    make_user("root", role=Role.ADMIN, is_staff=True, is_superuser=True)
    for _ in range(5):
        Client(REMOTE_ADDR=GUESSER).post(
            "/admin/login/", {"username": "root", "password": "guess", "next": "/admin/"}
        )
    client = Client(REMOTE_ADDR=GUESSER)
    client.post("/admin/login/", {"username": "root", "password": PASSWORD, "next": "/admin/"})
    assert "_auth_user_id" not in client.session
    assert lockout_for("root", GUESSER) is not None


def test_the_test_clients_login_and_scripts_are_not_limited(alice: User) -> None:
    fail("alice", 5)
    assert Client().login(username="alice", password=PASSWORD)
