"""Building a workflow in the browser, switching it on, and seeing it run (SPEC §3 row
``workflow``): "lifecycle stage becomes customer → unenroll from all sequences"."""

import re

import pytest
from playwright.sync_api import expect

from cadency.automation.models import Workflow
from cadency.contacts.editing import set_contact_field
from cadency.sequences.models import UnenrollReason
from tests.automation.support import run_automation
from tests.browser.builders import enrolled_later, person
from tests.browser.conftest import SignIn
from tests.factories import make_contact, make_sequence

pytestmark = pytest.mark.browser


def test_a_rep_builds_a_workflow_that_unenrolls_new_customers(signed_in_page: SignIn) -> None:
    alice = person("alice", "Alice", "Archer")
    jane = make_contact("jane@acme.test", first_name="Jane", last_name="Doe", owner=alice)
    enrollment = enrolled_later(jane, make_sequence(alice, name="Intro"), alice)
    page = signed_in_page(alice, next_path="/workflows/new/")
    expect(page.get_by_role("heading", name="New workflow")).to_be_visible()

    page.get_by_label("Name").fill("Customers leave sequences")
    when = page.get_by_label("When")
    # Each trigger type shows its own filters (re-rendered by htmx on change).
    when.select_option(label="Enrollment ended")
    expect(page.get_by_label("Ending reason")).to_be_visible()
    expect(page.get_by_label("Property")).to_have_count(0)
    # A keyboard user keeps the focus on the select when the form is re-rendered.
    page.get_by_label("When").focus()
    page.get_by_label("When").select_option(label="Contact property changed")
    expect(page.get_by_label("Property")).to_be_visible()
    expect(page.get_by_label("When")).to_be_focused()
    page.get_by_label("Property").fill("lifecycle_stage")
    page.get_by_label("Changes to").fill("customer")

    action = page.get_by_role("group", name="Action 1")
    action.get_by_label("Action", exact=True).select_option(label="Unenroll from sequences")
    expect(action.get_by_label("Enroll as")).to_have_count(0)
    action.get_by_label("Sequence").select_option(label="All sequences")
    with page.expect_navigation():
        page.get_by_role("button", name="Create workflow").click()

    status = page.get_by_role("status")
    expect(status).to_contain_text("Created the workflow «Customers leave sequences». It is off")
    what = page.get_by_role("region", name="What it does")
    expect(what).to_contain_text("Contact property changed: lifecycle_stage becomes “customer”")
    expect(what).to_contain_text("Unenroll from all sequences")

    with page.expect_navigation():
        page.get_by_role("button", name="Turn on «Customers leave sequences»").click()
    expect(page.get_by_role("status")).to_contain_text("is now on")
    expect(
        page.get_by_role("heading", name=re.compile("Customers leave sequences"))
    ).to_contain_text("On")
    workflow = Workflow.objects.get()
    assert workflow.enabled is True

    set_contact_field(contact=jane, field="lifecycle_stage", value="customer", actor=None)
    run_automation()

    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason) == ("unenrolled", UnenrollReason.WORKFLOW)
    assert enrollment.evidence["workflow"] == workflow.pk
    page.reload()
    runs = page.get_by_role("region", name=re.compile(r"Runs \(1\)"))
    row = runs.get_by_role("row", name=re.compile("Jane Doe"))
    expect(row).to_contain_text("Succeeded")
    expect(row).to_contain_text("Unenroll from sequences: unenrolled — «Intro»")
    with page.expect_navigation():
        row.get_by_role("link", name="Jane Doe").click()
    expect(page).to_have_url(re.compile(rf"/contacts/{jane.pk}/$"))
