"""Unenroll on each row of the Scheduled tab: shown on hover, reachable by keyboard."""

import pytest
from playwright.sync_api import Locator, Page, expect

from cadency.accounts.models import User
from cadency.sequences.models import Enrollment
from tests.browser.builders import (
    confirm_dialog,
    effective_opacity,
    enrolled_later,
    expect_opacity,
    person,
    states,
)
from tests.browser.conftest import SignIn
from tests.factories import make_contact, make_sequence

pytestmark = pytest.mark.browser

SCHEDULED = "/sequences/scheduled/"


@pytest.fixture
def alice() -> User:
    return person("alice", "Alice", "Archer")


@pytest.fixture
def enrollments(alice: User) -> list[Enrollment]:
    sequence = make_sequence(alice, name="Intro")
    people = [("jane", "Jane", "Doe", 1), ("john", "John", "Roe", 2), ("jim", "Jim", "Poe", 3)]
    return [
        enrolled_later(
            make_contact(f"{login}@acme.test", first_name=first, last_name=last),
            sequence,
            alice,
            in_days=days,
        )
        for login, first, last, days in people
    ]


def scheduled_row(page: Page, email: str) -> Locator:
    return page.get_by_role("row").filter(has_text=email)


def unenroll_button(row: Locator, name: str) -> Locator:
    return row.get_by_role("button", name=f"Unenroll {name} from Intro")


def test_the_rows_unenroll_appears_on_hover_and_ends_the_enrollment(
    alice: User, enrollments: list[Enrollment], signed_in_page: SignIn
) -> None:
    jane, *others = enrollments
    before = states(others)
    page = signed_in_page(alice, next_path=SCHEDULED)
    page.mouse.move(0, 0)
    row = scheduled_row(page, "jane@acme.test")
    button = unenroll_button(row, "Jane Doe")

    assert effective_opacity(button) == 0
    row.hover()
    expect_opacity(button, 1)
    button.click()
    dialog = confirm_dialog(page)
    expect(dialog).to_contain_text("Unenroll Jane Doe from «Intro»?")
    with page.expect_navigation():
        dialog.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("status")).to_contain_text("Unenrolled Jane Doe (jane@acme.test)")
    expect(scheduled_row(page, "jane@acme.test")).to_have_count(0)
    expect(scheduled_row(page, "john@acme.test")).to_be_visible()
    assert states([jane]) == {jane.pk: ("unenrolled", "manual", alice.pk)}
    assert states(others) == before


def test_the_rows_unenroll_is_reached_and_confirmed_with_the_keyboard(
    alice: User, enrollments: list[Enrollment], signed_in_page: SignIn
) -> None:
    _, john, _ = enrollments
    page = signed_in_page(alice, next_path=SCHEDULED)
    page.mouse.move(0, 0)
    row = scheduled_row(page, "john@acme.test")
    button = unenroll_button(row, "John Roe")

    row.get_by_role("link", name="John Roe").focus()
    for _ in range(5):
        page.keyboard.press("Tab")
        if button.evaluate("(node) => node === document.activeElement"):
            break
    expect(button).to_be_focused()
    expect_opacity(button, 1)  # the focused button must be seen
    page.keyboard.press("Enter")
    dialog = confirm_dialog(page)
    expect(dialog).to_contain_text("Unenroll John Roe from «Intro»?")
    expect(dialog.get_by_role("button", name="Confirm")).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")

    expect(scheduled_row(page, "john@acme.test")).to_have_count(0)
    assert states([john]) == {john.pk: ("unenrolled", "manual", alice.pk)}


def test_cancelling_keeps_the_row_and_the_enrollment(
    alice: User, enrollments: list[Enrollment], signed_in_page: SignIn
) -> None:
    before = states(enrollments)
    page = signed_in_page(alice, next_path=SCHEDULED)
    row = scheduled_row(page, "jim@acme.test")

    row.hover()
    unenroll_button(row, "Jim Poe").click()
    confirm_dialog(page).get_by_role("button", name="Cancel").click()
    expect(confirm_dialog(page)).to_be_hidden()

    page.reload()
    expect(scheduled_row(page, "jim@acme.test")).to_be_visible()
    assert states(enrollments) == before
