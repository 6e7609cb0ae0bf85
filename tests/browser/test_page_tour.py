"""Every page of the app, signed in as a manager over a small realistic dataset: each
answers 200, has a heading, logs no console error, and is screenshotted."""

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.utils import timezone
from playwright.sync_api import ConsoleMessage, Page, ViewportSize, expect
from playwright.sync_api import Error as PlaywrightError

from cadency.accounts.models import Role, User
from cadency.contacts.models import Company, Contact, ContactEmail, Suppression
from cadency.inbound.models import InboundMessage
from cadency.inbound.pipeline import process_message, store_message
from cadency.ledger.models import Event
from cadency.mailboxes.models import Mailbox
from cadency.sequences.models import Enrollment, Sequence, StepRun, UnenrollReason
from cadency.sequences.services.enrollment import enroll, pause, unenroll
from tests.browser.builders import ended, enrolled_later, person, sent
from tests.browser.conftest import SCREENSHOTS, SignIn
from tests.factories import make_company, make_contact, make_sequence
from tests.inbound.support import rfc5322

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}
_uid = itertools.count(1)


@dataclass(frozen=True)
class Dataset:
    manager: User
    mailbox: Mailbox
    acme: Company
    jane: Contact  # enrolled, with an alias, an out-of-office on her timeline
    newcomer: Contact  # never enrolled
    sequences: list[Sequence]
    reply: InboundMessage


def receive(
    mailbox: Mailbox, *, sender: str, subject: str, body: str, in_reply_to: str, **headers: str
) -> InboundMessage:
    """A message arriving in the mailbox's inbox, run through the real pipeline."""
    raw = rfc5322(
        sender=sender,
        to=mailbox.email,
        subject=subject,
        body=body,
        in_reply_to=in_reply_to,
        date=timezone.now().strftime("%a, %d %b %Y %H:%M:%S +0000"),
        headers=headers,
    )
    message, _ = store_message(
        mailbox=mailbox, folder="INBOX", uidvalidity=1, uid=next(_uid), raw=raw
    )
    return process_message(message)


def started(enrollment: Enrollment, days_ago: float) -> Enrollment:
    """History: the enrollment (and its "enrolled" event) began ``days_ago`` days ago."""
    when = timezone.now() - dt.timedelta(days=days_ago)
    Enrollment.objects.filter(pk=enrollment.pk).update(started_at=when)
    Event.objects.filter(enrollment=enrollment, kind="enrolled").update(occurred_at=when)
    enrollment.refresh_from_db()
    return enrollment


def next_step_due(enrollment: Enrollment, position: int, in_days: float) -> StepRun:
    step = enrollment.sequence.steps.get(version=enrollment.sequence_version, position=position)
    Enrollment.objects.filter(pk=enrollment.pk).update(current_position=position)
    return StepRun.objects.create(
        enrollment=enrollment,
        step=step,
        position=position,
        mailbox=enrollment.mailbox,
        due_at=timezone.now() + dt.timedelta(days=in_days),
    )


@pytest.fixture
def dataset() -> Dataset:
    maya = person("maya", "Maya", "Manager", role=Role.MANAGER)
    alice = person("alice", "Alice", "Archer")
    acme = make_company("Acme", "acme.test")
    globex = make_company("Globex", "globex.test")
    people = {
        login: make_contact(
            f"{login}@{company.domains.get().domain}",
            first_name=first,
            last_name=last,
            company=company,
            time_zone=zone,
        )
        for login, first, last, company, zone in [
            ("jane", "Jane", "Doe", acme, "Europe/Paris"),
            ("john", "John", "Roe", acme, ""),
            ("grace", "Grace", "Hopper", globex, "America/New_York"),
            ("ken", "Ken", "Thompson", globex, ""),
            ("ada", "Ada", "Lovelace", acme, "Europe/London"),
            ("barbara", "Barbara", "Liskov", globex, ""),
            ("linus", "Linus", "Torvalds", globex, ""),
            ("edsger", "Edsger", "Dijkstra", globex, ""),
        ]
    }
    ContactEmail.objects.create(contact=people["jane"], email="j.doe@acme.test")
    intro = make_sequence(alice, name="Intro")
    calls = make_sequence(
        maya,
        name="Follow-up calls",
        steps=[
            {"type": "call", "title": "Call {{ contact.first_name }} about the pilot"},
            {"type": "automated_email", "delay": 3, "subject": "After our call", "body": "Hi"},
        ],
    )

    jane = started(enrolled_later(people["jane"], intro, alice), days_ago=4)
    sent(jane, 1, days_ago=3)
    next_step_due(jane, 2, in_days=1)
    john = started(enrolled_later(people["john"], intro, alice), days_ago=2)
    pause(enrollment=john, actor=alice)
    grace = started(enrolled_later(people["grace"], intro, alice), days_ago=5)
    sent(grace, 1, days_ago=4)
    ken = started(enrolled_later(people["ken"], intro, maya), days_ago=9)
    sent(ken, 1, days_ago=8)
    sent(ken, 2, days_ago=6)
    ended(ken, "finished", "finished", "Ken Thompson finished «Intro».")
    ada = started(enrolled_later(people["ada"], intro, alice), days_ago=3)
    unenroll(enrollment=ada, reason=UnenrollReason.MANUAL, actor=maya)
    barbara = started(enrolled_later(people["barbara"], intro, alice), days_ago=6)
    sent(barbara, 1, days_ago=5)
    ended(barbara, "unenrolled", "bounced", "barbara@globex.test bounced: 5.1.1 user unknown.")
    Suppression.objects.create(
        email="barbara@globex.test", reason="bounced", detail="5.1.1", enrollment=barbara
    )
    enroll(contact=people["linus"], sequence=calls, user=maya)  # a call task for Maya, now

    alices_mailbox = alice.mailboxes.get()
    receive(
        alices_mailbox,
        sender="Jane Doe <jane@acme.test>",
        subject="Automatic reply: Quick question, Jane",
        body="I am out of the office until Monday 7 December with no access to email.\n",
        in_reply_to=f"<cadency.{jane.pk}.1@example.test>",
        **{"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
    )
    reply = receive(
        alices_mailbox,
        sender="Grace Hopper <grace@globex.test>",
        subject="Re: Quick question, Grace",
        body="Thanks Alice, happy to talk on Tuesday at 10.\n\nGrace\n",
        in_reply_to=f"<cadency.{grace.pk}.1@example.test>",
    )
    grace.refresh_from_db()
    assert (grace.status, grace.reason) == ("unenrolled", "replied"), grace.reason_text
    return Dataset(
        maya, maya.mailboxes.get(), acme, people["jane"], people["edsger"], [intro, calls], reply
    )


def paths_of(data: Dataset) -> list[str]:
    contact, company = data.jane.pk, data.acme.pk
    paths = [
        "/contacts/",
        f"/contacts/{contact}/",
        f"/contacts/{contact}/edit/",
        f"/contacts/{data.newcomer.pk}/enroll/",
        "/companies/",
        f"/companies/{company}/",
        f"/companies/{company}/edit/",
        "/sequences/",
        "/sequences/scheduled/",
    ]
    for sequence in data.sequences:
        base = f"/sequences/{sequence.pk}/"
        paths += [
            base,
            *(f"{base}{tab}/" for tab in ("enrollments", "performance", "settings", "automation")),
        ]
    paths += [
        "/deals/",
        "/tasks/",
        "/meetings/links/",
        "/calendars/",
        "/mailboxes/",
        f"/mailboxes/{data.mailbox.pk}/",
        "/inbound/",
        f"/inbound/{data.reply.pk}/",
        "/lists/",
        "/lists/new/",
        "/workflows/",
        "/workflows/new/",
        "/absence/",
        "/alerts/",
        "/account/",
        "/api/docs",  # last: its final state, rendered by Swagger UI, is screenshotted too
    ]
    return paths


class Tour:
    """One signed-in page going from URL to URL, noting what is wrong with each."""

    def __init__(self, page: Page, request: pytest.FixtureRequest) -> None:
        self.page = page
        self.shots = f"{request.node.name}-*.png"
        self.errors: list[str] = []
        page.on("console", self.on_console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url', '')})")

    def screenshots(self) -> int:
        return len(list(SCREENSHOTS.glob(self.shots)))

    def visit(self, url: str) -> list[str]:
        """Load one page; what is wrong with it (nothing when it is fine)."""
        self.errors, problems = [], []
        shots = self.screenshots()
        response = self.page.goto(url)
        if response is None or response.status != 200:
            problems.append(f"answered {response.status if response else 'nothing'}")
        try:
            expect(self.page.locator("h1").first).to_be_visible()
        except AssertionError:
            problems.append("has no visible <h1>")
        self.page.wait_for_load_state("networkidle")
        problems += [f"console: {error}" for error in self.errors]
        if self.screenshots() <= shots and not self.screenshot_again(shots):
            problems.append("no screenshot was saved")
        return problems

    def screenshot_again(self, number: int) -> bool:
        """The load handler's shot can time out on a busy machine: one more, with time."""
        path = SCREENSHOTS / self.shots.replace("*", f"again-{number}")
        try:
            self.page.screenshot(path=str(path), full_page=True, timeout=60_000)
        except PlaywrightError:
            return False
        return True


def test_every_page_loads_with_a_heading_and_no_console_error(
    dataset: Dataset,
    signed_in_page: SignIn,
    app_url: Callable[[str], str],
    request: pytest.FixtureRequest,
) -> None:
    tour = Tour(signed_in_page(dataset.manager, next_path="/contacts/"), request)

    problems = {path: tour.visit(app_url(path)) for path in paths_of(dataset)}

    assert {path: found for path, found in problems.items() if found} == {}


def test_the_contact_record_and_enrollments_tab_fit_a_phone(
    dataset: Dataset,
    signed_in_page: SignIn,
    app_url: Callable[[str], str],
    request: pytest.FixtureRequest,
) -> None:
    page = signed_in_page(dataset.manager, next_path="/contacts/")
    page.set_viewport_size(PHONE)
    tour = Tour(page, request)
    paths = [f"/contacts/{dataset.jane.pk}/", f"/sequences/{dataset.sequences[0].pk}/enrollments/"]

    problems = {}
    for path in paths:
        found = tour.visit(app_url(path))
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            found.append(f"scrolls sideways: {width}px wide on a {PHONE['width']}px screen")
        problems[path] = found

    assert {path: found for path, found in problems.items() if found} == {}
