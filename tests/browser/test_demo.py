"""Demo mode in the browser: "Reply as this contact" ends the enrollment on screen."""

import threading
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from pytest_django.fixtures import SettingsWrapper

from cadency.demo.seeding import (
    REP_PASSWORD,
    DemoData,
    MailServers,
    enroll_demo_contacts,
    seed_demo,
)
from cadency.inbound.watcher import MailboxWatch
from cadency.outbound.smtp_send import pool
from cadency.sequences.models import Enrollment
from tests.browser.conftest import SignIn
from tests.e2e.conftest import run_worker_until_idle
from tests.mailstack import MailStack

pytestmark = [pytest.mark.browser, pytest.mark.mail]


@pytest.fixture
def started_demo(mailstack: MailStack, settings: SettingsWrapper) -> Iterator[DemoData]:
    """`cadency demo` after start-up: data seeded, step 1 sent, the watcher on the inbox."""
    settings.CADENCY_DEMO = True
    settings.CADENCY_WATCHER_LEASE_SECONDS = 3
    pool.close_all()
    demo = seed_demo(MailServers(mailstack.smtp_port, mailstack.imap_port, mailstack.password))
    enroll_demo_contacts(demo)
    run_worker_until_idle()
    stopping = threading.Event()
    watcher = MailboxWatch(demo.mailbox.pk, stopping)
    watcher.start()
    yield demo
    stopping.set()
    watcher.join(timeout=10)


def test_reply_as_this_contact_shows_the_enrollment_ended_within_seconds(
    started_demo: DemoData, signed_in_page: SignIn
) -> None:
    jane = Enrollment.objects.get(email="jane@acme.test", status="active")
    page = signed_in_page(
        started_demo.rep, password=REP_PASSWORD, next_path=f"/contacts/{jane.contact_id}/"
    )
    banner = page.locator("#banner-title")
    expect(banner).to_contain_text("Enrolled in «Demo: introduction»")

    started = time.monotonic()
    page.get_by_role("button", name="Reply as this contact").click()
    expect(page.get_by_role("status").first).to_contain_text("Sent a reply from jane@acme.test")

    # The snippet reloads the page once the watcher has had time to decide.
    ended = page.get_by_role("row").filter(has_text="replied")
    expect(ended).to_be_visible(timeout=8000)
    expect(ended).to_contain_text("Unenrolled")
    expect(banner).to_have_count(0)
    assert time.monotonic() - started < 8
    jane.refresh_from_db()
    assert (jane.status, jane.reason) == ("unenrolled", "replied")
