"""A rep sets themselves away on /absence/ and comes back (SPEC §8 "Rep absence")."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cadency.accounts.models import User
from cadency.sequences.models import Enrollment, EnrollmentStatus, Task
from tests.browser.builders import confirm_dialog, enrolled_later, person
from tests.browser.conftest import SignIn
from tests.factories import make_contact, make_sequence

pytestmark = pytest.mark.browser


@pytest.fixture
def ann() -> User:
    user = person("ann", "Ann", "Archer")
    sequence = make_sequence(user, name="Intro")
    for _ in range(2):
        enrolled_later(make_contact(), sequence, user)
    Task.objects.create(
        assignee=user, contact=make_contact(), kind="call", title="Call", due_at=timezone.now()
    )
    return user


def test_a_rep_goes_away_with_a_confirmation_naming_the_counts_and_comes_back(
    ann: User, signed_in_page: SignIn
) -> None:
    back = timezone.now().date() + dt.timedelta(days=7)
    page = signed_in_page(ann, next_path="/absence/")
    expect(page.get_by_role("heading", name="You are not away")).to_be_visible()

    page.get_by_label("Away until").fill(back.isoformat())
    page.get_by_label("Note").fill("Holiday")
    preview = page.locator("#absence-preview")
    expect(preview).to_contain_text("2 active enrollments will pause and 1 open task")

    page.get_by_role("button", name="Set away").click()
    dialog = confirm_dialog(page)
    expect(dialog).to_contain_text("Pause 2 active enrollments and move 1 open task")
    with page.expect_navigation():
        dialog.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text("You are away until")
    expect(page.get_by_role("heading", name="Away until")).to_be_visible()
    assert set(Enrollment.objects.values_list("status", flat=True)) == {EnrollmentStatus.PAUSED}

    page.get_by_role("button", name="I'm back").click()
    with page.expect_navigation():
        confirm_dialog(page).get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text("Welcome back: 2 enrollment(s) resumed")
    expect(page.get_by_role("region", name="Past absences")).to_contain_text("Holiday")
    assert set(Enrollment.objects.values_list("status", flat=True)) == {EnrollmentStatus.ACTIVE}
