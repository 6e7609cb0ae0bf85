"""Browser tests: Playwright (python) driving Debian's Chromium headless against a live server.

Mark every test here ``@pytest.mark.browser`` (e.g. ``pytestmark = pytest.mark.browser``).
Without /usr/bin/chromium those tests are skipped, or the run fails when
``CADENCY_REQUIRE_SERVICES`` is set (``make test``), like the ``mail`` tests.

Fixtures:

- ``live_server`` (pytest-django): the app served on ``http://localhost:<port>`` by a
  thread of this process. Any test using the fixtures below gets a transactional
  database, so rows the test writes are visible to the server and the other way
  round (SQLite file or PostgreSQL through ``DATABASE_URL``). Build data with
  ``tests/factories.py`` as usual.
- ``app_url(path)``: the live server's absolute URL for ``path``.
- ``page``: an anonymous page in a fresh browser context (its own cookies).
- ``new_page()``: one more fresh, anonymous page (another person in the same test).
- ``signed_in_page(user, password=FACTORY_PASSWORD, next_path="/")``: a fresh page
  signed in as ``user`` through the real ``/login/`` form, left on ``next_path``.
  Call it once per user to act as several people in one test.
- ``browser`` (session): the Chromium instance itself.

Browser tests run after all the others. From the first one on, Playwright's sync
API keeps an asyncio loop running in the test thread, so the fixtures set
``DJANGO_ALLOW_ASYNC_UNSAFE`` (the ORM works as usual) and ``asyncio.run`` is off limits.

Screenshots: every page a test loads (each ``load`` event) and the last state of
each of its pages are saved full-page as ``var/artifacts/screenshots/<test>-<n>.png``
(git-ignored). A test's old screenshots are deleted when it starts again.

Use Playwright's waiting assertions (``expect(page).to_have_url(...)``,
``expect(locator).to_be_visible()``) rather than sleeps; ``reload_until`` (in
``tests/browser/helpers.py``) reloads a page until the server shows a change that
happens in the background (the watcher, the worker).
"""

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Browser, Error, Page, Playwright, ViewportSize, sync_playwright
from pytest_django.live_server_helper import LiveServer

from cadency.accounts.models import User

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "artifacts" / "screenshots"
# The password tests/factories.py gives every user it makes.
FACTORY_PASSWORD = "correct horse battery staple"
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
ACTION_TIMEOUT_MS = 10_000

PageFactory = Callable[[], Page]
SignIn = Callable[..., Page]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Browser tests run last: once Playwright has started, this thread holds its
    # event loop (see playwright_driver) and no other test should inherit it.
    items.sort(key=lambda item: "browser" in item.keywords)
    browser_tests = [item for item in items if "browser" in item.keywords]
    if not browser_tests or CHROMIUM.exists():
        return
    if os.environ.get("CADENCY_REQUIRE_SERVICES"):
        raise pytest.UsageError(
            f"CADENCY_REQUIRE_SERVICES is set but {CHROMIUM} is missing: "
            "install it with scripts/services/install.sh (as root)"
        )
    skip = pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM}: run `make test`")
    for item in browser_tests:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    # Playwright's sync API keeps an asyncio loop marked as running in this thread;
    # Django would then refuse every ORM call of the test as "async unsafe".
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    driver = sync_playwright().start()
    yield driver
    driver.stop()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"needs Chromium at {CHROMIUM}: run `make test`")
    chromium = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def app_url(live_server: LiveServer) -> Callable[[str], str]:
    def url(path: str = "/") -> str:
        return live_server.url + path

    return url


class Screenshots:
    """Numbered full-page screenshots of one test's pages."""

    def __init__(self, test_name: str) -> None:
        self.prefix = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name).strip("_")
        self.taken = 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        stale = re.compile(rf"{re.escape(self.prefix)}-\d+\.png")
        for old in SCREENSHOTS.iterdir():
            if stale.fullmatch(old.name):
                old.unlink(missing_ok=True)

    def take(self, page: Page) -> None:
        if page.is_closed():
            return
        self.taken += 1
        path = SCREENSHOTS / f"{self.prefix}-{self.taken}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
        except Error:
            # The page navigated away or closed mid-shot; the next load is shot instead.
            self.taken -= 1


@pytest.fixture
def new_page(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[PageFactory]:
    screenshots = Screenshots(request.node.name)
    opened: list[Page] = []

    def open_page() -> Page:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        fresh = context.new_page()
        fresh.on("load", screenshots.take)
        opened.append(fresh)
        return fresh

    yield open_page
    for each in opened:
        if not each.is_closed() and each.url != "about:blank":
            screenshots.take(each)
        each.context.close()


@pytest.fixture
def page(new_page: PageFactory) -> Page:
    return new_page()


@pytest.fixture
def signed_in_page(new_page: PageFactory, app_url: Callable[[str], str]) -> SignIn:
    def sign_in(user: User, password: str = FACTORY_PASSWORD, next_path: str = "/") -> Page:
        signed_in = new_page()
        signed_in.goto(app_url(f"/login/?next={quote(next_path)}"))
        signed_in.get_by_label("Username").fill(user.get_username())
        signed_in.get_by_label("Password").fill(password)
        with signed_in.expect_navigation():
            signed_in.get_by_role("button", name="Sign in").click()
        if urlsplit(signed_in.url).path == "/login/":
            alert = signed_in.get_by_role("alert")
            said = alert.inner_text() if alert.count() else "no error shown"
            raise AssertionError(f"signing in as {user.get_username()} failed: {said}")
        return signed_in

    return sign_in
