"""Unenrolling from the contact record's "Enrolled in «…»" banner (SPEC §4)."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Request, expect

from cadency.accounts.models import User
from cadency.contacts.models import Contact
from cadency.sequences.models import Enrollment, StepRunState
from tests.browser.builders import confirm_dialog, enrolled_later, person, settle
from tests.browser.conftest import SignIn
from tests.factories import make_contact, make_sequence

pytestmark = pytest.mark.browser


@pytest.fixture
def alice() -> User:
    return person("alice", "Alice", "Archer")


@pytest.fixture
def jane() -> Contact:
    return make_contact("jane@acme.test", first_name="Jane", last_name="Doe")


@pytest.fixture
def enrollment(alice: User, jane: Contact) -> Enrollment:
    return enrolled_later(jane, make_sequence(alice, name="Intro"), alice)


def test_a_rep_unenrolls_a_contact_from_the_banner_after_confirming(
    alice: User, jane: Contact, enrollment: Enrollment, signed_in_page: SignIn
) -> None:
    page = signed_in_page(alice, next_path=f"/contacts/{jane.pk}/")
    banner = page.get_by_role("region", name=re.compile("Enrolled in"))
    expect(banner).to_contain_text("Enrolled in «Intro»")

    banner.get_by_role("button", name="Unenroll").click()
    dialog = confirm_dialog(page)
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Unenroll Jane Doe from «Intro»?")
    with page.expect_navigation():
        dialog.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("status")).to_contain_text("Unenrolled Jane Doe (jane@acme.test)")
    expect(page.get_by_role("region", name=re.compile("Enrolled in"))).to_have_count(0)
    expect(page.get_by_role("link", name="Enroll in a sequence")).to_be_visible()
    past = page.get_by_role("region", name="Past enrollments").get_by_role(
        "row", name=re.compile("Intro")
    )
    expect(past).to_contain_text("Unenrolled")
    expect(past).to_contain_text("manual")
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason) == ("unenrolled", "manual")
    assert enrollment.ended_by_id == alice.pk
    assert not enrollment.step_runs.filter(state=StepRunState.SCHEDULED).exists()


def test_cancelling_the_dialog_leaves_the_contact_enrolled(
    alice: User,
    jane: Contact,
    enrollment: Enrollment,
    signed_in_page: SignIn,
    app_url: Callable[[str], str],
) -> None:
    page = signed_in_page(alice, next_path=f"/contacts/{jane.pk}/")
    posts: list[Request] = []
    page.on("request", lambda request: posts.append(request) if request.method == "POST" else None)
    banner = page.get_by_role("region", name=re.compile("Enrolled in"))
    dialog = confirm_dialog(page)

    banner.get_by_role("button", name="Unenroll").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    # Escape closes it the same way.
    banner.get_by_role("button", name="Unenroll").click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    settle(page)

    assert posts == []
    expect(page).to_have_url(app_url(f"/contacts/{jane.pk}/"))
    expect(banner).to_contain_text("Enrolled in «Intro»")
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason, enrollment.ended_by_id) == ("active", "", None)
    assert enrollment.step_runs.filter(state=StepRunState.SCHEDULED).count() == 1
