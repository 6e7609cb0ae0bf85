"""The Automation tab's unenrollment trigger: pick "lifecycle stage is customer",
preview the count (nothing saved), save through the confirm dialog, and see those
enrollments unenrolled on the Enrollments tab (SPEC §3 ``unenroll_trigger``)."""

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from cadency.accounts.models import User
from cadency.automation.models import UnenrollTrigger
from cadency.sequences.models import Enrollment
from tests.browser.builders import confirm_dialog, enrolled_later, person, states
from tests.browser.conftest import SignIn
from tests.factories import make_contact, make_sequence

pytestmark = pytest.mark.browser


@pytest.fixture
def alice() -> User:
    return person("alice", "Alice", "Archer")


def test_a_previewed_trigger_saved_through_the_dialog_unenrolls_the_customers(
    alice: User, signed_in_page: SignIn, app_url: Callable[[str], str]
) -> None:
    sequence = make_sequence(alice, name="Intro")

    def enrolled(first: str, last: str, stage: str) -> Enrollment:
        contact = make_contact(
            f"{first.lower()}@acme.test", first_name=first, last_name=last, lifecycle_stage=stage
        )
        return enrolled_later(contact, sequence, alice)

    customers = [
        enrolled("Cara", "Lane", "customer"),
        enrolled("Cole", "Hart", "customer"),
        enrolled("Cruz", "Moss", "customer"),
    ]
    leads = [enrolled("Lena", "Park", "lead"), enrolled("Liam", "Reed", "opportunity")]
    leads_before = states(leads)
    page = signed_in_page(alice, next_path=f"/sequences/{sequence.pk}/automation/")

    page.get_by_label("Unenroll when").select_option("property_value")
    page.get_by_label("Field", exact=True).select_option("lifecycle_stage")
    expect(page.get_by_label("Property name")).to_be_hidden()
    expect(page.get_by_label("Deal stage")).to_be_hidden()
    page.get_by_label("Operator").select_option("is")
    page.get_by_label("Value", exact=True).fill("customer")
    page.get_by_role("button", name="Preview").click()

    preview = page.locator("#trigger-preview")
    expect(preview).to_contain_text(
        "This trigger is already true for 3 open enrollments of this sequence: saving it will "
        "unenroll them now (reason unenroll_trigger)."
    )
    names = preview.get_by_role("list", name="Open enrollments it would end")
    expect(names.get_by_role("listitem")).to_have_count(3)
    expect(names).to_contain_text("Cara Lane")
    expect(names).not_to_contain_text("Lena Park")
    assert not UnenrollTrigger.objects.exists()

    preview.get_by_role("button", name="Save trigger").click()
    dialog = confirm_dialog(page)
    expect(dialog).to_contain_text("It is already true for 3 open enrollments of this sequence")
    with page.expect_navigation():
        dialog.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("status")).to_contain_text(
        "It ended 3 open enrollments it was already true for."
    )
    triggers = page.get_by_role("table", name="Unenrollment triggers")
    expect(triggers).to_contain_text("lifecycle_stage is “customer”")
    expect(triggers).to_contain_text("3 enrollments")

    page.goto(app_url(f"/sequences/{sequence.pk}/enrollments/?status=unenrolled"))
    for enrollment in customers:
        row = page.get_by_role("row").filter(has_text=enrollment.email)
        expect(row).to_contain_text("Unenrolled")
        expect(row).to_contain_text("Unenrollment trigger")
    for enrollment in leads:
        expect(page.get_by_role("row").filter(has_text=enrollment.email)).to_have_count(0)
    trigger = UnenrollTrigger.objects.get()
    assert states(customers) == {e.pk: ("unenrolled", "unenroll_trigger", None) for e in customers}
    assert all(
        e.evidence["trigger"] == trigger.pk
        for e in Enrollment.objects.filter(pk__in=[c.pk for c in customers])
    )
    assert states(leads) == leads_before
