"""The Outlook add-in's task pane (Cadency's ``/sidebar/?client=outlook``) in a harness.

``clients/harness/outlook-compose.html`` plays Outlook on the web composing a
message: its "Cadency" ribbon button opens the task pane in a frame, and it tells
the pane the recipients and keeps the add-in's roaming settings. The pane asks for
Office.js at Microsoft's address; the browser context serves it
``clients/harness/fake-office.js`` instead, which implements the compose API the
pane uses (recipients' ``getAsync``, the RecipientsChanged event, roamingSettings).
"""

import os
import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from playwright.sync_api import FrameLocator, Page, Route, expect
from pytest_django.fixtures import SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from cadency.accounts.models import ApiToken, User
from cadency.accounts.tokens import create_token
from cadency.contacts.models import Contact
from cadency.sequences.models import EnrollmentStatus
from cadency.sidebar.views.page import OFFICE_JS
from tests.browser.builders import enrolled_later, person
from tests.browser.conftest import FACTORY_PASSWORD, SCREENSHOTS, PageFactory
from tests.clients.harness_server import CLIENTS, serve_clients
from tests.factories import make_company, make_contact, make_sequence

pytestmark = pytest.mark.browser

# Pairing: the panel polls every 2 s; on a loaded machine a claim can take a few rounds.
CLAIM_TIMEOUT_MS = 15_000

FAKE_OFFICE = CLIENTS / "harness" / "fake-office.js"
DOCS_SCREENSHOTS = CLIENTS.parent / "docs" / "screenshots"
UPDATE_DOCS = bool(os.environ.get("CADENCY_UPDATE_DOCS_SCREENSHOTS"))


@pytest.fixture(scope="module")
def harness() -> Iterator[str]:
    with serve_clients() as origin:
        yield origin


@pytest.fixture
def outlook(
    new_page: PageFactory, harness: str, live_server: LiveServer, settings: SettingsWrapper
) -> Page:
    """The harness page, its "Cadency" button opening the live sidebar as task pane."""
    # The harness stands in for https://outlook.office.com, which may frame the pane.
    settings.CADENCY_SIDEBAR_FRAME_ANCESTORS = [*settings.CADENCY_SIDEBAR_FRAME_ANCESTORS, harness]
    settings.CADENCY_BASE_URL = live_server.url
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    page = new_page()

    def fake_office(route: Route) -> None:
        route.fulfill(path=FAKE_OFFICE, content_type="text/javascript")

    page.context.route(OFFICE_JS, fake_office)
    pane = quote(f"{live_server.url}/sidebar/?client=outlook", safe="")
    page.goto(f"{harness}/harness/outlook-compose.html?pane={pane}")
    return page


def task_pane(page: Page) -> FrameLocator:
    return page.frame_locator("#pane-frame")


def cards(page: Page) -> list[str]:
    return task_pane(page).locator("article[data-card] h2").all_inner_texts()


def type_recipient(page: Page, field: str, address: str) -> None:
    page.get_by_label(field, exact=True).fill(address)
    page.get_by_label(field, exact=True).press("Enter")


def open_pane(page: Page) -> None:
    page.get_by_role("button", name="Cadency", exact=True).click()


def save_docs_screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))
    if UPDATE_DOCS:
        page.screenshot(path=str(DOCS_SCREENSHOTS / name))


@pytest.fixture
def rep() -> User:
    return person("olga", "Olga", "Oak")


@pytest.fixture
def jane(rep: User) -> Contact:
    return make_contact(
        "jane@acme.test", first_name="Jane", last_name="Doe", company=make_company()
    )


def test_task_pane_reads_the_recipients_and_follows_their_changes(
    outlook: Page, rep: User, jane: Contact
) -> None:
    token = create_token(user=rep, name="Outlook add-in").secret
    outlook.evaluate("(token) => outlookHarness.setRoaming({cadencyToken: token})", token)
    type_recipient(outlook, "To", "jane@acme.test")
    open_pane(outlook)

    expect(task_pane(outlook).locator("article[data-card]")).to_have_count(1)
    assert cards(outlook) == ["Jane Doe"]

    type_recipient(outlook, "Cc", "sam@globex.test")
    expect(task_pane(outlook).locator("article[data-card]")).to_have_count(2)
    assert cards(outlook) == ["Jane Doe", "sam@globex.test"]

    outlook.get_by_role("button", name="Remove jane@acme.test").click()
    expect(task_pane(outlook).locator("article[data-card]")).to_have_count(1)
    assert cards(outlook) == ["sam@globex.test"]


def test_unenrolling_from_the_task_pane_ends_the_enrollment_as_manual(
    outlook: Page, rep: User, jane: Contact
) -> None:
    enrollment = enrolled_later(jane, make_sequence(rep, name="Intro"), rep)
    token = create_token(user=rep, name="Outlook add-in").secret
    outlook.evaluate("(token) => outlookHarness.setRoaming({cadencyToken: token})", token)
    type_recipient(outlook, "To", "jane@acme.test")
    open_pane(outlook)

    card = task_pane(outlook).locator("article[data-card]", has_text="Jane Doe")
    expect(card).to_contain_text("Enrolled in «Intro»")
    save_docs_screenshot(outlook, "mail-client-outlook.png")
    card.get_by_role("button", name="Unenroll from sequence").click()
    task_pane(outlook).get_by_role("dialog").get_by_role("button", name="Confirm").click()
    expect(card.locator("[data-notice]")).to_be_visible()

    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason, enrollment.ended_by) == (
        EnrollmentStatus.UNENROLLED,
        "manual",
        rep,
    )


def test_connecting_stores_the_token_in_the_roaming_settings(
    outlook: Page, rep: User, jane: Contact
) -> None:
    type_recipient(outlook, "To", "jane@acme.test")
    open_pane(outlook)
    connect = task_pane(outlook).get_by_role("button", name="Connect to Cadency")

    with outlook.context.expect_page() as opened:
        connect.click()
    approval = opened.value
    approval.wait_for_url(re.compile(r"/login/"))
    approval.get_by_label("Username").fill(rep.username)
    approval.get_by_label("Password").fill(FACTORY_PASSWORD)
    approval.get_by_role("button", name="Sign in").click()
    code = task_pane(outlook).locator("[data-pairing-code]").inner_text()
    expect(approval.get_by_text(code)).to_be_visible()
    approval.get_by_role("button", name="Connect").click()

    approved = task_pane(outlook).locator("article[data-card]", has_text="Jane Doe")
    expect(approved).to_be_visible(timeout=CLAIM_TIMEOUT_MS)
    outlook.wait_for_function("() => outlookHarness.roaming().cadencyToken")
    token = outlook.evaluate("() => outlookHarness.roaming().cadencyToken")
    assert ApiToken.objects.get(prefix=token[:12]).user == rep

    task_pane(outlook).get_by_role("button", name="Disconnect").click()
    expect(task_pane(outlook).get_by_role("button", name="Connect to Cadency")).to_be_visible()
    outlook.wait_for_function("() => !outlookHarness.roaming().cadencyToken")
