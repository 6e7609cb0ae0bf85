"""The Gmail extension (clients/gmail) loaded into Chromium, against a Gmail-like page.

Chromium runs with the unpacked extension (``--load-extension``; Debian's Chromium
and Playwright's ``headless=True``, which is Chromium's new headless mode, the one
that runs extensions). The extension is built by ``clients/build.py`` for the live
Cadency with ``--test-origin`` so its content script also runs on the harness page
``clients/harness/gmail-compose.html``, served on another loopback port: that page
reproduces Gmail's compose markup. The panel frames the real ``/sidebar/``.
"""

import contextlib
import hashlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    BrowserContext,
    Error,
    FrameLocator,
    Locator,
    Page,
    Playwright,
    expect,
)
from pytest_django.fixtures import SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from cadency.accounts.models import ApiToken, User
from cadency.accounts.tokens import create_token
from cadency.contacts.models import Contact
from cadency.sequences.models import EnrollmentStatus
from tests.browser.builders import enrolled_later, person
from tests.browser.conftest import (
    ACTION_TIMEOUT_MS,
    CHROMIUM,
    CHROMIUM_ARGS,
    FACTORY_PASSWORD,
    SCREENSHOTS,
    VIEWPORT,
)
from tests.clients.harness_server import CLIENTS, serve_clients
from tests.factories import make_company, make_contact, make_sequence

pytestmark = pytest.mark.browser

# Pairing: the panel polls every 2 s; on a loaded machine a claim can take a few rounds.
CLAIM_TIMEOUT_MS = 15_000

DOCS_SCREENSHOTS = CLIENTS.parent / "docs" / "screenshots"
# Set to rewrite docs/screenshots/mail-client-*.png from the tests.
UPDATE_DOCS = bool(os.environ.get("CADENCY_UPDATE_DOCS_SCREENSHOTS"))


@pytest.fixture(scope="module")
def harness() -> Iterator[str]:
    with serve_clients() as origin:
        yield origin


@pytest.fixture(scope="module")
def extension_dir(
    harness: str, live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("dist")
    command = [sys.executable, str(CLIENTS / "build.py"), "--base-url", live_server.url]
    command += ["--out", str(out), "--test-origin", harness]
    subprocess.run(command, check=True, capture_output=True)
    return out / "gmail"


def unpacked_extension_id(path: Path) -> str:
    """Chromium's id for an unpacked extension: from the hash of its folder's path."""
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:32]
    return "".join(chr(ord("a") + int(digit, 16)) for digit in digest)


@dataclass
class Gmail:
    """Chromium with the extension, and the harness page that plays Gmail."""

    context: BrowserContext
    extension_origin: str
    harness: str

    def extension_page(self, path: str = "options.html") -> Page:
        page = self.context.new_page()
        page.goto(f"{self.extension_origin}/{path}")
        return page

    def storage(self, area: str) -> dict[str, Any]:
        page = self.extension_page()
        stored: dict[str, Any] = page.evaluate(f"chrome.storage.{area}.get(null)")
        page.close()
        return stored

    def store(self, area: str, items: dict[str, Any]) -> None:
        page = self.extension_page()
        page.evaluate(f"(items) => chrome.storage.{area}.set(items)", items)
        page.close()

    def compose(self, markup: str = "") -> Page:
        page = self.context.new_page()
        query = f"?markup={markup}" if markup else ""
        page.goto(f"{self.harness}/harness/gmail-compose.html{query}")
        page.get_by_role("button", name="Compose").click()
        return page


@pytest.fixture
def gmail(
    playwright_driver: Playwright,
    extension_dir: Path,
    harness: str,
    settings: SettingsWrapper,
    live_server: LiveServer,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[Gmail]:
    if not CHROMIUM.exists():
        pytest.skip(f"needs Chromium at {CHROMIUM}: run `make test`")
    # The harness page stands in for https://mail.google.com: allow it to frame the
    # sidebar (through the extension's panel) as Gmail is allowed.
    settings.CADENCY_SIDEBAR_FRAME_ANCESTORS = [*settings.CADENCY_SIDEBAR_FRAME_ANCESTORS, harness]
    settings.CADENCY_BASE_URL = live_server.url
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    args = [arg for arg in CHROMIUM_ARGS if arg != "--headless"]
    args += [f"--disable-extensions-except={extension_dir}", f"--load-extension={extension_dir}"]
    context = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=str(CHROMIUM),
        headless=True,
        args=args,
        viewport=VIEWPORT,
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    origin = f"chrome-extension://{unpacked_extension_id(extension_dir)}"
    yield Gmail(context=context, extension_origin=origin, harness=harness)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for number, page in enumerate(context.pages, start=1):
        if not page.is_closed() and page.url != "about:blank":
            with contextlib.suppress(Error):  # a page closing or navigating as the test ends
                page.screenshot(path=str(SCREENSHOTS / f"{name}-{number}.png"))
    context.close()


def panel_frame(page: Page) -> FrameLocator:
    return page.frame_locator("#cadency-panel-host iframe.panel")


def sidebar(page: Page) -> FrameLocator:
    return panel_frame(page).frame_locator("#sidebar")


def to_field(page: Page) -> Locator:
    return page.get_by_role("dialog").locator(
        'input[aria-label="To recipients"], textarea[name="to"]'
    )


def add_recipients(page: Page, *addresses: str) -> None:
    field = to_field(page)
    for address in addresses:
        field.fill(address)
        field.press("Enter")


def connected(gmail: Gmail, user: User, live_server: LiveServer) -> str:
    """Store an API token of ``user`` in the extension, as pairing would."""
    token = create_token(user=user, name="Gmail sidebar").secret
    gmail.store("local", {"cadencyToken": {"origin": live_server.url, "token": token}})
    return token


def card_titles(page: Page) -> Callable[[], list[str]]:
    titles = sidebar(page).locator("article[data-card] h2")
    return titles.all_inner_texts


@pytest.fixture
def rep() -> User:
    return person("rita", "Rita", "Ray")


@pytest.fixture
def jane(rep: User) -> Contact:
    acme = make_company()
    return make_contact("jane@acme.test", first_name="Jane", last_name="Doe", company=acme)


def wait_until(condition: Callable[[], bool], timeout: float = 5) -> None:
    """For what the extension writes in the background (its storage)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not become true in time"
        time.sleep(0.1)


def save_docs_screenshot(page: Page, name: str, part: str = "") -> None:
    """The picture docs/mail-clients.md shows (rewritten with CADENCY_UPDATE_DOCS_SCREENSHOTS)."""
    shoot = page.locator(part).screenshot if part else page.screenshot
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shoot(path=str(SCREENSHOTS / name))
    if UPDATE_DOCS:
        shoot(path=str(DOCS_SCREENSHOTS / name))


def test_panel_shows_the_recipients_enrollment_and_unenrolls_it_as_manual(
    gmail: Gmail, live_server: LiveServer, rep: User, jane: Contact
) -> None:
    enrollment = enrolled_later(jane, make_sequence(rep, name="Intro"), rep)
    connected(gmail, rep, live_server)
    page = gmail.compose()

    add_recipients(page, "Jane@Acme.test")

    card = sidebar(page).locator("article[data-card]", has_text="Jane Doe")
    expect(card).to_be_visible()
    expect(card).to_contain_text("Enrolled in «Intro»")
    save_docs_screenshot(page, "mail-client-gmail.png")
    card.get_by_role("button", name="Unenroll from sequence").click()
    confirm = sidebar(page).get_by_role("dialog")
    expect(confirm).to_contain_text("Unenroll Jane Doe from «Intro»?")
    confirm.get_by_role("button", name="Confirm").click()
    expect(card.locator("[data-notice]")).to_be_visible()

    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason, enrollment.ended_by) == (
        EnrollmentStatus.UNENROLLED,
        "manual",
        rep,
    )


@pytest.mark.parametrize("markup", ["", "classic"])
def test_recipients_are_read_from_chips_and_finished_typing_only(
    gmail: Gmail, live_server: LiveServer, rep: User, jane: Contact, markup: str
) -> None:
    connected(gmail, rep, live_server)
    page = gmail.compose(markup)
    titles = card_titles(page)

    add_recipients(page, "jane@acme.test")
    expect(sidebar(page).locator("article[data-card]")).to_have_count(1)
    assert titles() == ["Jane Doe"]

    # Still typing: the unfinished address is not read; a comma finishes it.
    field = to_field(page)
    field.press_sequentially("sam@globex.test")
    page.wait_for_timeout(600)
    assert titles() == ["Jane Doe"]
    field.press_sequentially(", ")
    expect(sidebar(page).locator("article[data-card]")).to_have_count(2)
    assert titles() == ["Jane Doe", "sam@globex.test"]

    # Cc counts; the senders listed outside the compose window and the addresses
    # quoted in the body do not.
    cc = page.get_by_role("dialog").locator(
        'input[aria-label="Cc recipients"], textarea[name="cc"]'
    )
    cc.fill("lee@initech.test")
    cc.press("Enter")
    expect(sidebar(page).locator("article[data-card]")).to_have_count(3)
    assert titles() == ["Jane Doe", "sam@globex.test", "lee@initech.test"]

    # Removing a chip removes the card.
    page.get_by_role("button", name="Remove sam@globex.test").click()
    expect(sidebar(page).locator("article[data-card]")).to_have_count(2)


def test_the_panel_follows_compose_windows_and_can_be_hidden(
    gmail: Gmail, live_server: LiveServer, rep: User
) -> None:
    connected(gmail, rep, live_server)
    page = gmail.compose()
    panel = page.locator("#cadency-panel-host iframe.panel")
    reopen = page.get_by_role("button", name="Open the Cadency panel")
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    dialog = page.get_by_role("dialog").bounding_box()
    assert box is not None and dialog is not None
    assert box["x"] + box["width"] <= dialog["x"], "the panel sits beside the compose window"

    panel_frame(page).get_by_role("button", name="Hide the Cadency panel").click()
    expect(panel).to_be_hidden()
    expect(reopen).to_be_focused()
    reopen.click()
    expect(panel).to_be_visible()

    page.get_by_role("button", name="Save & close").click()
    expect(panel).to_be_hidden()
    expect(reopen).to_be_hidden()


def test_connecting_pairs_through_cadency_and_stores_the_token_for_its_origin(
    gmail: Gmail, live_server: LiveServer, rep: User, jane: Contact
) -> None:
    page = gmail.compose()
    add_recipients(page, "jane@acme.test")
    connect = sidebar(page).get_by_role("button", name="Connect to Cadency")
    expect(connect).to_be_visible()

    with gmail.context.expect_page() as opened:
        connect.click()
    approval = opened.value
    approval.wait_for_url(re.compile(r"/login/"))
    approval.get_by_label("Username").fill(rep.username)
    approval.get_by_label("Password").fill(FACTORY_PASSWORD)
    approval.get_by_role("button", name="Sign in").click()
    code = sidebar(page).locator("[data-pairing-code]").inner_text()
    expect(approval.get_by_text(code)).to_be_visible()
    save_docs_screenshot(page, "mail-client-gmail-pairing.png")
    save_docs_screenshot(approval, "mail-client-approve.png")
    approval.get_by_role("button", name="Connect").click()
    expect(approval.get_by_role("status")).to_contain_text("connected")

    approved = sidebar(page).locator("article[data-card]", has_text="Jane Doe")
    expect(approved).to_be_visible(timeout=CLAIM_TIMEOUT_MS)
    stored = gmail.storage("local")["cadencyToken"]
    assert stored["origin"] == live_server.url
    assert ApiToken.objects.get(prefix=stored["token"][:12]).user == rep

    sidebar(page).get_by_role("button", name="Disconnect").click()
    expect(sidebar(page).get_by_role("button", name="Connect to Cadency")).to_be_visible()
    wait_until(lambda: "cadencyToken" not in gmail.storage("local"))


def test_the_token_is_never_handed_to_another_cadency(
    gmail: Gmail, live_server: LiveServer, rep: User, jane: Contact
) -> None:
    connected(gmail, rep, live_server)
    # The same server under another origin stands for another Cadency.
    other = live_server.url.replace("localhost", "127.0.0.1")
    gmail.store("sync", {"cadencyUrl": other})
    page = gmail.compose()
    add_recipients(page, "jane@acme.test")
    expect(sidebar(page).get_by_role("button", name="Connect to Cadency")).to_be_visible()
    expect(sidebar(page).locator("article[data-card]")).to_have_count(0)


def test_options_check_the_address_and_the_panel_follows_it(
    gmail: Gmail, live_server: LiveServer
) -> None:
    options = gmail.extension_page("options.html")
    address = options.get_by_label("Address of your Cadency")
    expect(address).to_have_value(live_server.url)  # the build's default

    address.fill("http://cadency.example.com")
    options.get_by_role("button", name="Save").click()
    expect(options.get_by_role("status")).to_contain_text("Use an https:// address")
    expect(address).to_have_attribute("aria-invalid", "true")
    assert "cadencyUrl" not in gmail.storage("sync")

    address.fill("https://cadency.example.com/team/?x=1#top")
    options.get_by_role("button", name="Save").click()
    expect(options.get_by_role("status")).to_contain_text(
        "Saved: the panel now uses https://cadency.example.com/team"
    )
    assert gmail.storage("sync")["cadencyUrl"] == "https://cadency.example.com/team"
    page = gmail.compose()
    expect(panel_frame(page).locator("#sidebar")).to_have_attribute(
        "src", "https://cadency.example.com/team/sidebar/?client=gmail"
    )

    # Saving another address reloads the open panel with it.
    address.fill(live_server.url)
    options.get_by_role("button", name="Save").click()
    expect(options.get_by_role("status")).to_contain_text(f"now uses {live_server.url}")
    expect(panel_frame(page).locator("#sidebar")).to_have_attribute(
        "src", f"{live_server.url}/sidebar/?client=gmail"
    )
    expect(sidebar(page).get_by_role("button", name="Connect to Cadency")).to_be_visible()


def test_disconnecting_in_the_options_revokes_and_forgets_the_token(
    gmail: Gmail, live_server: LiveServer, rep: User
) -> None:
    token = connected(gmail, rep, live_server)
    options = gmail.extension_page("options.html")
    expect(options.get_by_text(f"Connected to {live_server.url}.")).to_be_visible()
    save_docs_screenshot(options, "mail-client-gmail-options.png", part="main")
    options.get_by_role("button", name="Disconnect").click()
    expect(options.get_by_role("status")).to_contain_text(
        "Disconnected: Cadency revoked the key and this computer forgot it."
    )
    expect(options.get_by_text("Not connected.")).to_be_visible()
    assert "cadencyToken" not in gmail.storage("local")
    assert ApiToken.objects.get(prefix=token[:12]).revoked_at is not None
