"""The per-row Actions menu of a sequence's Enrollments tab: Unenroll, Pause, Resume."""

import pytest
from playwright.sync_api import Locator, Page, expect

from cadency.accounts.models import User
from cadency.sequences.models import Enrollment, Sequence
from tests.browser.builders import confirm_dialog, enrolled_later, person, states
from tests.browser.conftest import SignIn
from tests.factories import make_contact, make_sequence

pytestmark = pytest.mark.browser


@pytest.fixture
def alice() -> User:
    return person("alice", "Alice", "Archer")


@pytest.fixture
def sequence(alice: User) -> Sequence:
    return make_sequence(alice, name="Intro")


@pytest.fixture
def enrollments(alice: User, sequence: Sequence) -> list[Enrollment]:
    people = [("jane", "Jane", "Doe"), ("john", "John", "Roe"), ("jim", "Jim", "Poe")]
    return [
        enrolled_later(
            make_contact(f"{login}@acme.test", first_name=first, last_name=last), sequence, alice
        )
        for login, first, last in people
    ]


def row_of(page: Page, email: str) -> Locator:
    return page.get_by_role("row").filter(has_text=email)


def open_actions(row: Locator, name: str) -> Locator:
    """Open the row's Actions menu; return the row."""
    row.get_by_label(f"Actions for {name}").click()
    return row


def test_unenroll_from_the_actions_menu_ends_only_that_enrollment(
    alice: User, sequence: Sequence, enrollments: list[Enrollment], signed_in_page: SignIn
) -> None:
    jane, *others = enrollments
    before = states(others)
    page = signed_in_page(alice, next_path=f"/sequences/{sequence.pk}/enrollments/")

    row = open_actions(row_of(page, "jane@acme.test"), "Jane Doe")
    expect(row.get_by_role("link", name="View contact")).to_be_visible()
    row.get_by_role("button", name="Unenroll").click()
    dialog = confirm_dialog(page)
    expect(dialog).to_contain_text("Unenroll Jane Doe from «Intro»?")
    with page.expect_navigation():
        dialog.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("status")).to_contain_text("Unenrolled Jane Doe (jane@acme.test)")
    expect(row_of(page, "jane@acme.test")).to_contain_text("Unenrolled")
    expect(row_of(page, "jane@acme.test")).to_contain_text("Manual")
    expect(row_of(page, "john@acme.test")).to_contain_text("Active")
    assert states([jane]) == {jane.pk: ("unenrolled", "manual", alice.pk)}
    assert states(others) == before


def test_cancelling_the_menus_unenroll_changes_nothing(
    alice: User, sequence: Sequence, enrollments: list[Enrollment], signed_in_page: SignIn
) -> None:
    before = states(enrollments)
    page = signed_in_page(alice, next_path=f"/sequences/{sequence.pk}/enrollments/")

    row = open_actions(row_of(page, "jane@acme.test"), "Jane Doe")
    row.get_by_role("button", name="Unenroll").click()
    confirm_dialog(page).get_by_role("button", name="Cancel").click()
    expect(confirm_dialog(page)).to_be_hidden()

    page.reload()
    expect(row_of(page, "jane@acme.test")).to_contain_text("Active")
    assert states(enrollments) == before


def test_pause_then_resume_from_the_actions_menu(
    alice: User, sequence: Sequence, enrollments: list[Enrollment], signed_in_page: SignIn
) -> None:
    _, john, _ = enrollments
    page = signed_in_page(alice, next_path=f"/sequences/{sequence.pk}/enrollments/")

    with page.expect_navigation():
        open_actions(row_of(page, "john@acme.test"), "John Roe").get_by_role(
            "button", name="Pause"
        ).click()
    expect(page.get_by_role("status")).to_contain_text("Paused John Roe (john@acme.test)")
    expect(row_of(page, "john@acme.test")).to_contain_text("Paused")
    john.refresh_from_db()
    assert (john.status, john.paused_at is not None) == ("paused", True)

    row = open_actions(row_of(page, "john@acme.test"), "John Roe")
    expect(row.get_by_role("button", name="Pause")).to_have_count(0)
    with page.expect_navigation():
        row.get_by_role("button", name="Resume").click()
    expect(page.get_by_role("status")).to_contain_text("Resumed John Roe (john@acme.test)")
    expect(row_of(page, "john@acme.test")).to_contain_text("Active")
    john.refresh_from_db()
    assert (john.status, john.reason, john.paused_at) == ("active", "", None)
    assert john.step_runs.filter(state="scheduled").count() == 1


def test_the_actions_menu_works_from_the_keyboard(
    alice: User, sequence: Sequence, enrollments: list[Enrollment], signed_in_page: SignIn
) -> None:
    _, john, _ = enrollments
    page = signed_in_page(alice, next_path=f"/sequences/{sequence.pk}/enrollments/")
    row = row_of(page, "john@acme.test")
    menu = row.get_by_label("Actions for John Roe")

    menu.focus()
    page.keyboard.press("Enter")
    expect(row.get_by_role("link", name="View contact")).to_be_visible()
    page.keyboard.press("Tab")
    expect(row.get_by_role("button", name="Unenroll")).to_be_focused()
    page.keyboard.press("Enter")
    expect(confirm_dialog(page)).to_contain_text("Unenroll John Roe from «Intro»?")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    expect(row_of(page, "john@acme.test")).to_contain_text("Unenrolled")
    assert states([john]) == {john.pk: ("unenrolled", "manual", alice.pk)}


def test_unenroll_from_the_actions_menu_on_a_phone(
    alice: User, sequence: Sequence, enrollments: list[Enrollment], signed_in_page: SignIn
) -> None:
    _, _, jim = enrollments
    page = signed_in_page(alice, next_path=f"/sequences/{sequence.pk}/enrollments/")
    page.set_viewport_size({"width": 390, "height": 844})

    row = open_actions(row_of(page, "jim@acme.test"), "Jim Poe")
    row.get_by_role("button", name="Unenroll").click()
    with page.expect_navigation():
        confirm_dialog(page).get_by_role("button", name="Confirm").click()

    expect(row_of(page, "jim@acme.test")).to_contain_text("Unenrolled")
    assert states([jim]) == {jim.pk: ("unenrolled", "manual", alice.pk)}
