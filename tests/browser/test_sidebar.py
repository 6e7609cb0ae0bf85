"""The mail-client sidebar (/sidebar/) in Chromium, in both of its modes (issue 7).

Gmail mode: a local page on another port stands in for the extension's panel. It
frames /sidebar/?client=gmail and talks to it with postMessage, exactly as the
extension does. Outlook mode: the page is the task pane, and an init script
provides the Office.js mailbox API (recipients, RecipientsChanged, roaming settings).
"""

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import FrameLocator, Page, Request, Route, ViewportSize, expect
from pytest_django.fixtures import SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from cadency.accounts.models import User
from cadency.accounts.tokens import authenticate_token, create_token
from cadency.contacts.models import Contact
from cadency.sequences.models import Enrollment, StepRunState
from tests.browser.builders import enrolled_later, person
from tests.browser.conftest import SCREENSHOTS, PageFactory
from tests.factories import make_company, make_contact, make_sequence

pytestmark = pytest.mark.browser

PANEL_SIZE: ViewportSize = {"width": 320, "height": 640}

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Compose (extension panel stand-in)</title>
<style>body { margin: 0; display: flex; font-family: sans-serif; }
main { flex: 1; padding: 1rem; } iframe { width: 320px; height: 640px; border: 0;
border-left: 1px solid #ccc; } .intruder { width: 1px; height: 1px; }</style></head>
<body><main><h1>New message</h1></main>
<iframe id="sidebar" title="Cadency" src="SIDEBAR_URL"></iframe>
<script>
  const sidebar = document.getElementById("sidebar");
  const cadency = new URL(sidebar.src).origin;
  window.received = [];
  window.intruderDone = false;
  window.addEventListener("message", (event) => {
    if (event.origin === cadency) window.received.push(event.data);
    else if (event.data === "intruder-sent") window.intruderDone = true;
  });
  window.sendContext = (token, recipients) => sidebar.contentWindow.postMessage(
    {type: "cadency:context", token: token, recipients: recipients}, cadency);
  window.addIntruder = (src) => {
    const frame = document.createElement("iframe");
    frame.className = "intruder";
    frame.src = src;
    document.body.append(frame);
  };
</script></body></html>
"""

# Another origin framed next to the sidebar (an ad, another extension's frame):
# it tries to feed the sidebar a context of its own.
INTRUDER_PAGE = """<!doctype html><html><body><script>
  parent.frames[0].postMessage(
    {type: "cadency:context", token: FORGED_TOKEN, recipients: ["forged@acme.test"]}, "*");
  parent.postMessage("intruder-sent", "*");
</script></body></html>
"""

FAKE_OFFICE = """(() => {
  const handlers = {};
  const people = { to: [], cc: [] };
  const entry = (address) => ({ displayName: "", emailAddress: address });
  const field = (name) => ({
    getAsync(options, callback) {
      const done = typeof options === "function" ? options : callback;
      setTimeout(() => done({ status: "succeeded", value: people[name].map(entry) }), 0);
    },
  });
  const settings = new Map(Object.entries(INITIAL_SETTINGS));
  window.fakeOffice = {
    settings: settings,
    saves: 0,
    setRecipients(to, cc) {
      people.to = to;
      people.cc = cc || [];
      (handlers.olkRecipientsChanged || []).forEach((handler) =>
        handler({ type: "olkRecipientsChanged", changedRecipientFields: { to: true } }));
    },
  };
  window.fakeOffice.setRecipients(INITIAL_TO, []);
  window.Office = {
    AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
    EventType: { RecipientsChanged: "olkRecipientsChanged" },
    onReady(callback) {
      const info = { host: "Outlook", platform: "OfficeOnline" };
      return new Promise((resolve) => setTimeout(() => {
        if (callback) callback(info);
        resolve(info);
      }, 0));
    },
    context: {
      mailbox: {
        item: {
          itemType: "message",
          to: field("to"),
          cc: field("cc"),
          addHandlerAsync(type, handler, options, callback) {
            (handlers[type] = handlers[type] || []).push(handler);
            const done = typeof options === "function" ? options : callback;
            if (done) done({ status: "succeeded" });
          },
        },
      },
      roamingSettings: {
        get: (key) => settings.get(key),
        set: (key, value) => settings.set(key, value),
        remove: (key) => settings.delete(key),
        saveAsync(callback) {
          window.fakeOffice.saves += 1;
          if (callback) callback({ status: "succeeded" });
        },
      },
      ui: {},
    },
  };
})();
"""


@dataclass(frozen=True)
class HostServer:
    """The stand-in for the extension panel, on its own port."""

    port: int
    pages: dict[str, str]

    @property
    def origin(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def other_origin(self) -> str:
        """The same server under another name: another origin, not allowed."""
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def host_server() -> Iterator[HostServer]:
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/favicon.ico":
                self.send_response(204)
                self.end_headers()
                return
            body = pages.get(self.path.split("?")[0])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write((body or "not found").encode())

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield HostServer(port=server.server_address[1], pages=pages)
    server.shutdown()
    server.server_close()


@pytest.fixture
def sidebar_settings(
    settings: SettingsWrapper, live_server: LiveServer, host_server: HostServer
) -> None:
    """Cadency as deployed for a mail client living at the host server's origin."""
    settings.CADENCY_BASE_URL = live_server.url
    settings.CADENCY_SIDEBAR_ORIGINS = [host_server.origin]
    settings.CADENCY_SIDEBAR_FRAME_ANCESTORS = ["'self'", host_server.origin]


@pytest.fixture
def alice() -> User:
    return person("alice", "Alice", "Archer")


@pytest.fixture
def jane(alice: User) -> Contact:
    return make_contact(
        "jane@acme.test", first_name="Jane", last_name="Doe", company=make_company(), owner=alice
    )


@pytest.fixture
def enrollment(alice: User, jane: Contact) -> Enrollment:
    return enrolled_later(jane, make_sequence(alice, name="Intro"), alice)


def open_host(page: Page, host: HostServer, app_url: Callable[[str], str]) -> FrameLocator:
    """The host page with the sidebar framed in it, once the sidebar said it is ready."""
    host.pages["/host.html"] = HOST_PAGE.replace("SIDEBAR_URL", app_url("/sidebar/?client=gmail"))
    page.goto(f"{host.origin}/host.html")
    page.wait_for_function("() => window.received.some((m) => m && m.type === 'cadency:ready')")
    return page.frame_locator("#sidebar")


def send_context(page: Page, token: str | None, recipients: list[str]) -> None:
    page.evaluate(
        "([token, recipients]) => window.sendContext(token, recipients)", [token, recipients]
    )


def console_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on(
        "console",
        lambda message: errors.append(f"{message.location['url']}: {message.text}")
        if message.type == "error"
        else None,
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def panel_requests(page: Page) -> list[Request]:
    requests: list[Request] = []
    page.on("request", lambda r: requests.append(r) if "/sidebar/panel/" in r.url else None)
    return requests


def shoot_panel(page: Page, name: str, locator: str = "body") -> None:
    """The panel alone, as docs/mail-clients.md shows it (copied to docs/screenshots/
    by hand when it changes)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(locator).screenshot(path=str(SCREENSHOTS / f"sidebar-{name}.png"))


def test_gmail_panel_shows_the_contact_and_unenrolls_it(
    sidebar_settings: None,
    host_server: HostServer,
    page: Page,
    app_url: Callable[[str], str],
    alice: User,
    jane: Contact,
    enrollment: Enrollment,
) -> None:
    token = create_token(user=alice, name="Gmail sidebar").secret
    errors = console_errors(page)
    sidebar = open_host(page, host_server, app_url)
    expect(sidebar.get_by_text("Waiting for the message you are writing")).to_be_visible()

    send_context(page, token, ["jane@acme.test"])

    card = sidebar.get_by_role("article", name="Jane Doe")
    expect(card).to_contain_text("Acme")
    expect(card).to_contain_text("Alice Archer")
    alert = card.get_by_role("region", name=re.compile("Enrolled in"))
    expect(alert).to_contain_text("Enrolled in «Intro»")
    expect(alert).to_contain_text("Step 1 of 2")
    shoot_panel(page, "gmail", "#sidebar")

    alert.get_by_role("button", name="Unenroll from sequence").click()
    dialog = sidebar.get_by_role("dialog")
    expect(dialog).to_contain_text("Unenroll Jane Doe from «Intro»?")
    dialog.get_by_role("button", name="Confirm").click()

    notice = card.get_by_role("status")
    expect(notice).to_contain_text("Unenrolled Jane Doe (jane@acme.test) from «Intro».")
    expect(notice).to_be_focused()
    expect(card.get_by_role("region", name=re.compile("Enrolled in"))).to_have_count(0)
    expect(card.get_by_label("Enroll in a sequence")).to_be_visible()
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason, enrollment.ended_by_id) == (
        "unenrolled",
        "manual",
        alice.pk,
    )
    assert not enrollment.step_runs.filter(state=StepRunState.SCHEDULED).exists()
    assert errors == []


def test_cancelling_the_confirmation_leaves_the_contact_enrolled(
    sidebar_settings: None,
    host_server: HostServer,
    page: Page,
    app_url: Callable[[str], str],
    alice: User,
    enrollment: Enrollment,
) -> None:
    sidebar = open_host(page, host_server, app_url)
    send_context(page, create_token(user=alice, name="Gmail sidebar").secret, ["jane@acme.test"])
    sidebar.get_by_role("button", name="Unenroll from sequence").click()
    sidebar.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(sidebar.get_by_role("dialog")).to_be_hidden()
    expect(sidebar.get_by_role("region", name=re.compile("Enrolled in"))).to_be_visible()
    enrollment.refresh_from_db()
    assert enrollment.status == "active"


def test_a_context_from_an_origin_not_allowed_is_ignored(
    sidebar_settings: None,
    host_server: HostServer,
    page: Page,
    app_url: Callable[[str], str],
    alice: User,
    jane: Contact,
) -> None:
    make_contact("forged@acme.test", first_name="Forged", last_name="Person")
    mallory = person("mallory", "Mallory", "Example")
    forged_token = create_token(user=mallory, name="Gmail sidebar").secret
    host_server.pages["/intruder.html"] = INTRUDER_PAGE.replace(
        "FORGED_TOKEN", json.dumps(forged_token)
    )
    sidebar = open_host(page, host_server, app_url)
    requests = panel_requests(page)

    page.evaluate("(src) => window.addIntruder(src)", f"{host_server.other_origin}/intruder.html")
    page.wait_for_function("() => window.intruderDone")
    # Nothing can signal "ignored": give an accepted message time to show (the
    # panel reloads 150 ms after a context), then check that none did.
    page.wait_for_timeout(1000)
    assert requests == []
    expect(sidebar.get_by_text("Waiting for the message you are writing")).to_be_visible()

    send_context(page, create_token(user=alice, name="Gmail sidebar").secret, ["jane@acme.test"])
    expect(sidebar.get_by_role("article", name="Jane Doe")).to_be_visible()
    expect(sidebar.get_by_text("Connected as Alice Archer")).to_be_visible()
    assert all("forged" not in request.url for request in requests)
    expect(sidebar.get_by_text("Forged Person")).to_have_count(0)


def test_pairing_connects_the_panel_and_hands_the_token_to_the_host(
    sidebar_settings: None,
    host_server: HostServer,
    page: Page,
    app_url: Callable[[str], str],
    alice: User,
    enrollment: Enrollment,
) -> None:
    sidebar = open_host(page, host_server, app_url)
    send_context(page, None, ["jane@acme.test"])
    connect = sidebar.get_by_role("region", name="Connect to Cadency")
    expect(connect).to_be_visible()

    with page.context.expect_page() as opened:
        connect.get_by_role("button", name="Connect to Cadency").click()
    code = sidebar.locator("[data-pairing-code]").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    expect(sidebar.get_by_text("Waiting for your approval")).to_be_visible()
    shoot_panel(page, "gmail-pairing", "#sidebar")

    # The new window: sign in with the normal session, check the code, connect.
    approval = opened.value
    approval.wait_for_url(re.compile(r"/login/\?next="))
    approval.get_by_label("Username").fill("alice")
    approval.get_by_label("Password").fill("correct horse battery staple")
    with approval.expect_navigation():
        approval.get_by_role("button", name="Sign in").click()
    assert approval.url == app_url(f"/sidebar/pair/{code}/")
    expect(approval.get_by_role("heading")).to_contain_text("Connect the Gmail sidebar?")
    expect(approval.locator(".approve-code")).to_have_text(code)
    expect(approval.get_by_text("Alice Archer (alice)")).to_be_visible()
    shoot_panel(approval, "approve")
    approval.get_by_role("button", name="Connect").click()
    expect(approval.get_by_role("heading", name="Connected")).to_be_visible()

    page.wait_for_function(
        "() => window.received.some((m) => m && m.type === 'cadency:paired')", timeout=10_000
    )
    paired = page.evaluate("() => window.received.find((m) => m.type === 'cadency:paired')")
    assert authenticate_token(paired["token"]) == alice
    expect(sidebar.get_by_text("Connected as Alice Archer")).to_be_visible()
    expect(sidebar.get_by_role("region", name=re.compile("Enrolled in"))).to_contain_text("«Intro»")


def test_disconnecting_revokes_the_token_and_asks_the_host_to_forget_it(
    sidebar_settings: None,
    host_server: HostServer,
    page: Page,
    app_url: Callable[[str], str],
    alice: User,
    jane: Contact,
) -> None:
    token = create_token(user=alice, name="Gmail sidebar").secret
    sidebar = open_host(page, host_server, app_url)
    send_context(page, token, ["jane@acme.test"])
    sidebar.get_by_role("button", name="Disconnect").click()
    expect(sidebar.get_by_role("region", name="Connect to Cadency")).to_contain_text("Disconnected")
    page.wait_for_function("() => window.received.some((m) => m.type === 'cadency:forget')")
    assert authenticate_token(token) is None


def office_page(
    new_page: PageFactory, app_url: Callable[[str], str], token: str, to: list[str]
) -> Page:
    """The task pane as Outlook shows it, with a local stand-in for Office.js."""
    pane = new_page()
    pane.set_viewport_size(PANEL_SIZE)
    pane.on("pageerror", lambda error: pytest.fail(f"the pane failed: {error}"))

    def empty_script(route: Route) -> None:
        route.fulfill(status=200, content_type="text/javascript", body="")

    pane.route("https://appsforoffice.microsoft.com/**", empty_script)
    script = FAKE_OFFICE.replace("INITIAL_SETTINGS", json.dumps({"cadencyToken": token}))
    pane.add_init_script(script.replace("INITIAL_TO", json.dumps(to)))
    pane.goto(app_url("/sidebar/?client=outlook"))
    return pane


def test_outlook_pane_shows_the_recipients_and_follows_their_changes(
    new_page: PageFactory,
    app_url: Callable[[str], str],
    alice: User,
    jane: Contact,
    enrollment: Enrollment,
) -> None:
    make_contact("omar@beta.test", first_name="Omar", last_name="Okafor")
    token = create_token(user=alice, name="Outlook add-in").secret
    pane = office_page(new_page, app_url, token, ["jane@acme.test"])

    expect(pane.get_by_role("article", name="Jane Doe")).to_contain_text("Enrolled in «Intro»")
    expect(pane.get_by_text("Connected as Alice Archer")).to_be_visible()

    pane.evaluate("() => window.fakeOffice.setRecipients(['omar@beta.test'], ['new@beta.test'])")
    omar = pane.get_by_role("article", name="Omar Okafor")
    expect(omar.get_by_label("Enroll in a sequence")).to_have_value(str(enrollment.sequence_id))
    expect(pane.get_by_role("article", name="new@beta.test")).to_contain_text("Not in Cadency yet")
    expect(pane.get_by_role("article", name="Jane Doe")).to_have_count(0)
    shoot_panel(pane, "outlook")
    width = pane.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PANEL_SIZE["width"], f"the pane scrolls sideways ({width} px)"


def test_outlook_pane_keeps_the_token_in_the_roaming_settings(
    new_page: PageFactory,
    app_url: Callable[[str], str],
    alice: User,
    jane: Contact,
) -> None:
    token = create_token(user=alice, name="Outlook add-in").secret
    pane = office_page(new_page, app_url, token, ["jane@acme.test"])
    pane.get_by_role("button", name="Disconnect").click()
    expect(pane.get_by_role("region", name="Connect to Cadency")).to_be_visible()
    assert pane.evaluate("() => window.fakeOffice.settings.has('cadencyToken')") is False
    assert pane.evaluate("() => window.fakeOffice.saves") == 1
    assert authenticate_token(token) is None
