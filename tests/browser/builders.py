"""Data and page helpers shared by the browser tests of the unenroll surfaces."""

import datetime as dt

from django.utils import timezone
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from cadency.accounts.models import Role, User
from cadency.contacts.models import Contact
from cadency.outbound.models import SentMessage
from cadency.sequences.models import Enrollment, Sequence, StepRun, StepRunState
from cadency.sequences.services.enrollment import enroll
from cadency.sequences.services.templates import render
from tests.factories import make_mailbox, make_user

# (status, reason, ended_by) of an enrollment: what an unenrollment changes.
State = tuple[str, str, int | None]


def person(username: str, first_name: str, last_name: str, role: Role = Role.REP) -> User:
    """A user with a working mailbox (reps need one to enroll)."""
    user = make_user(username, role=role, first_name=first_name, last_name=last_name)
    make_mailbox(user)
    return user


def enrolled_later(
    contact: Contact, sequence: Sequence, user: User, *, in_days: float = 2
) -> Enrollment:
    """An open enrollment whose first step is due in ``in_days``: nothing is sent now."""
    return enroll(
        contact=contact,
        sequence=sequence,
        user=user,
        start_at=timezone.now() + dt.timedelta(days=in_days),
    )


def states(enrollments: list[Enrollment]) -> dict[int, State]:
    """The current state of each enrollment, read from the database."""
    rows = Enrollment.objects.filter(pk__in=[e.pk for e in enrollments])
    return {
        pk: (status, reason, by)
        for pk, status, reason, by in rows.values_list("pk", "status", "reason", "ended_by_id")
    }


def confirm_dialog(page: Page) -> Locator:
    """The confirm dialog of app.html (``<dialog id="confirm-dialog">``)."""
    return page.get_by_role("dialog")


def csrf_token(page: Page) -> str:
    """The CSRF token of the page's session, as a form would send it."""
    token = page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    assert token, f"{page.url} has no CSRF token in its forms"
    return token


EFFECTIVE_OPACITY_JS = """(node) => {
    let opacity = 1;
    for (let at = node; at instanceof Element; at = at.parentElement) {
        opacity *= Number(getComputedStyle(at).opacity);
    }
    return opacity;
}"""


def effective_opacity(element: Locator) -> float:
    """The opacity a person sees: the element's times every ancestor's."""
    seen: float = element.evaluate(EFFECTIVE_OPACITY_JS)
    return seen


def expect_opacity(element: Locator, opacity: float) -> None:
    """Wait (as ``expect`` does) until the element is seen at ``opacity``."""
    try:
        element.page.wait_for_function(
            f"([node, wanted]) => ({EFFECTIVE_OPACITY_JS})(node) === wanted",
            arg=[element.element_handle(), opacity],
        )
    except PlaywrightTimeoutError:
        seen = effective_opacity(element)
        raise AssertionError(f"{element} is seen at opacity {seen}, not {opacity}") from None


def settle(page: Page) -> None:
    """Let the page run whatever its event handlers queued (a dialog's close event)."""
    page.evaluate("() => new Promise((done) => setTimeout(done, 50))")


def ended(enrollment: Enrollment, status: str, reason: str, sentence: str = "") -> Enrollment:
    """History: the enrollment ended an hour ago (written directly, as Cadency would have)."""
    Enrollment.objects.filter(pk=enrollment.pk).update(
        status=status,
        reason=reason,
        reason_text=sentence,
        ended_at=timezone.now() - dt.timedelta(hours=1),
    )
    StepRun.objects.filter(enrollment=enrollment, state=StepRunState.SCHEDULED).update(
        state=StepRunState.CANCELLED
    )
    enrollment.refresh_from_db()
    return enrollment


def sent(enrollment: Enrollment, position: int, *, days_ago: float = 3) -> StepRun:
    """History: step ``position`` of the enrollment went out ``days_ago`` days ago."""
    when = timezone.now() - dt.timedelta(days=days_ago)
    step = enrollment.sequence.steps.get(version=enrollment.sequence_version, position=position)
    run, _ = StepRun.objects.update_or_create(
        enrollment=enrollment,
        position=position,
        defaults={"step": step, "mailbox": enrollment.mailbox, "due_at": when},
    )
    first = enrollment.sequence.steps.get(version=enrollment.sequence_version, position=1)
    subject = render(first.subject, contact=enrollment.contact, sender=enrollment.enrolled_by)
    run.state = StepRunState.SENT
    run.executed_at = when
    run.message_id = f"<cadency.{enrollment.pk}.{position}@example.test>"
    run.subject = subject if position == 1 else f"Re: {subject}"
    run.save()
    SentMessage.objects.create(
        step_run=run,
        enrollment=enrollment,
        message_id=run.message_id,
        to_email=enrollment.email,
        subject=run.subject,
        raw=f"Subject: {run.subject}\r\n\r\nHi {enrollment.contact.first_name}\r\n".encode(),
        accepted_at=when,
    )
    return run
