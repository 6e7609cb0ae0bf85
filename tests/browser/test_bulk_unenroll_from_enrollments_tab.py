"""Bulk unenroll on a sequence's Enrollments tab: checkboxes, "all N matching", the
confirm dialog's count, and Performance numbers that do not move (SPEC §4, §5)."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import Locator, Page, expect

from cadency.accounts.models import User
from cadency.sequences.models import Enrollment, Sequence
from tests.browser.builders import confirm_dialog, ended, enrolled_later, person, sent, states
from tests.browser.conftest import SignIn
from tests.factories import make_contact, make_sequence

pytestmark = pytest.mark.browser

OPEN = 55  # more than one page of 50


@dataclass(frozen=True)
class Scene:
    sequence: Sequence
    open: list[Enrollment]  # oldest first, so the last 50 fill page 1
    history: list[Enrollment]  # ended before the test: one replied, one finished


@pytest.fixture
def alice() -> User:
    return person("alice", "Alice", "Archer")


@pytest.fixture
def scene(alice: User) -> Scene:
    sequence = make_sequence(alice, name="Intro")
    replied = enrolled_later(
        make_contact("ruth@acme.test", first_name="Ruth", last_name="Replied"), sequence, alice
    )
    sent(replied, 1)
    ended(replied, "unenrolled", "replied", "Ruth Replied replied from ruth@acme.test to step 1.")
    done = enrolled_later(
        make_contact("finn@globex.test", first_name="Finn", last_name="Finished"), sequence, alice
    )
    sent(done, 1, days_ago=5)
    sent(done, 2, days_ago=3)
    ended(done, "finished", "finished")
    opened = [
        enrolled_later(
            make_contact(f"pat{n:02d}@acme.test", first_name="Pat", last_name=f"Lee{n:02d}"),
            sequence,
            alice,
        )
        for n in range(1, OPEN + 1)
    ]
    for enrollment in opened[-10:]:
        sent(enrollment, 1)
    return Scene(sequence, opened, [replied, done])


@dataclass(frozen=True)
class Numbers:
    stats: dict[str, str]
    funnel: list[list[str]]
    reasons: dict[str, str]  # reason → count


def body_cells(table: Locator) -> list[list[str]]:
    rows: list[list[str]] = table.evaluate(
        """(table) => Array.from(table.tBodies[0].rows,
               (row) => Array.from(row.cells, (cell) => cell.innerText.trim()))"""
    )
    return rows


def performance_numbers(page: Page, url: str) -> Numbers:
    """What the Performance tab at ``url`` shows: the headline figures and both tables."""
    page.goto(url)
    stats = {}
    for item in page.get_by_role("listitem").all():
        label, value, *_ = item.inner_text().split("\n")
        stats[label.strip()] = value.strip()
    funnel = body_cells(page.get_by_role("table", name="The funnel as a table"))
    by_reason = page.get_by_role("region", name="Unenrollments by reason").get_by_role("table")
    return Numbers(stats, funnel, {row[0]: row[1] for row in body_cells(by_reason)})


def assert_unchanged_but_manual(before: Numbers, after: Numbers, manual: int) -> None:
    """Unenrolling changes no figure except the unenrolled count and the "Manual" reason."""
    unenrolled = int(before.stats["Unenrolled"]) + manual
    assert after.stats == {**before.stats, "Unenrolled": str(unenrolled)}
    assert after.funnel == before.funnel
    manual_before = int(before.reasons.get("Manual", "0"))
    assert after.reasons == {**before.reasons, "Manual": str(manual_before + manual)}


def test_the_selected_rows_end_after_a_dialog_that_states_their_count(
    alice: User, scene: Scene, signed_in_page: SignIn, app_url: Callable[[str], str]
) -> None:
    tab = app_url(f"/sequences/{scene.sequence.pk}/enrollments/")
    performance = app_url(f"/sequences/{scene.sequence.pk}/performance/")
    picked = [scene.open[-2], scene.open[-7], scene.open[-30]]
    rest = [e for e in scene.open if e not in picked] + scene.history
    rest_before = states(rest)
    page = signed_in_page(alice, next_path=f"/sequences/{scene.sequence.pk}/enrollments/")
    before = performance_numbers(page, performance)
    assert before.stats["Enrolled"] == str(OPEN + 2)
    assert before.funnel[0][:2] == ["1 · Automated email", "12"]

    page.goto(tab)
    expect(page.get_by_role("navigation", name="Pages")).to_contain_text("Page 1 of 2")
    for enrollment in picked:
        page.get_by_role("checkbox", name=f"Select Pat {enrollment.contact.last_name}").check()
    expect(page.get_by_text("3 selected on this page; 3 can be unenrolled.")).to_be_visible()
    page.get_by_role("button", name="Unenroll", exact=True).click()
    dialog = confirm_dialog(page)
    expect(dialog).to_contain_text("Unenroll 3 enrollments?")
    with page.expect_navigation():
        dialog.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("status")).to_have_text("Unenrolled 3.")
    for enrollment in picked:
        row = page.get_by_role("row").filter(has_text=enrollment.email)
        expect(row).to_contain_text("Unenrolled")
    assert states(picked) == {e.pk: ("unenrolled", "manual", alice.pk) for e in picked}
    assert states(rest) == rest_before
    assert_unchanged_but_manual(before, performance_numbers(page, performance), manual=3)


def test_all_matching_across_pages_end_after_a_dialog_that_states_how_many(
    alice: User, scene: Scene, signed_in_page: SignIn, app_url: Callable[[str], str]
) -> None:
    tab = app_url(f"/sequences/{scene.sequence.pk}/enrollments/")
    performance = app_url(f"/sequences/{scene.sequence.pk}/performance/")
    history_before = states(scene.history)
    page = signed_in_page(alice, next_path=f"/sequences/{scene.sequence.pk}/enrollments/")
    before = performance_numbers(page, performance)

    page.goto(tab)
    page.get_by_label("Status").select_option("active")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    page.get_by_role("checkbox", name="Select all on this page").check()
    page.get_by_role("button", name=f"Select all {OPEN} matching").click()
    expect(page.get_by_text(f"All {OPEN} matching are selected")).to_be_visible()
    page.get_by_role("button", name="Unenroll", exact=True).click()
    dialog = confirm_dialog(page)
    expect(dialog).to_contain_text(f"Unenroll {OPEN} enrollments")
    with page.expect_navigation():
        dialog.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("status")).to_have_text(f"Unenrolled {OPEN}.")
    expect(page.get_by_text("No enrollments match this filter.")).to_be_visible()
    assert states(scene.open) == {e.pk: ("unenrolled", "manual", alice.pk) for e in scene.open}
    assert states(scene.history) == history_before
    assert_unchanged_but_manual(before, performance_numbers(page, performance), manual=OPEN)
