"""Signing in through the real sign-in page, in Chromium."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SignIn
from tests.factories import make_user

pytestmark = pytest.mark.browser


def test_signing_in_with_the_right_password_lands_on_the_app(signed_in_page: SignIn) -> None:
    alice = make_user("alice", first_name="Alice", last_name="Martin")

    page = signed_in_page(alice)

    assert "/login/" not in page.url
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def test_a_wrong_password_shows_the_error_and_signs_nobody_in(
    page: Page, app_url: Callable[[str], str]
) -> None:
    make_user("alice")

    page.goto(app_url("/login/"))
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("didn't match")
    expect(page).to_have_url(re.compile(r"/login/$"))
    assert not [c for c in page.context.cookies() if c["name"] == "sessionid"]


def test_an_anonymous_visit_to_contacts_goes_to_the_sign_in_page(
    page: Page, app_url: Callable[[str], str]
) -> None:
    page.goto(app_url("/contacts/"))

    expect(page).to_have_url(re.compile(r"/login/\?next=/contacts/$"))
    expect(page.get_by_label("Password")).to_be_visible()
