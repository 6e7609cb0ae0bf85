"""Words and helpers the sequence pages share: reason labels, the viewer's time zone, paging."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from cadency.accounts.models import User
from cadency.sequences.models import StepKind, UnenrollReason

PER_PAGE = 50
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class ReasonText:
    label: str
    line: str  # one sentence: what makes Cadency end an enrollment with this code


REASONS: dict[str, ReasonText] = {
    UnenrollReason.REPLIED: ReasonText(
        "Replied", "The contact replied to one of the sequence emails."
    ),
    UnenrollReason.EMAILED: ReasonText(
        "Emailed", "The contact emailed the enrolling user outside the sequence."
    ),
    UnenrollReason.REPLIED_OTHER_ADDRESS: ReasonText(
        "Replied from another address",
        "Someone replied to a sequence email of this enrollment from another address.",
    ),
    UnenrollReason.EMAILED_FROM_ALIAS: ReasonText(
        "Emailed from an alias",
        "The contact emailed from an additional address, or the enrolled one written "
        "differently (plus-addressing, Gmail dots, letter case).",
    ),
    UnenrollReason.COMPANY_REPLIED: ReasonText(
        "Company replied",
        "A person of the same company replied or emailed, and the sequence ends the whole "
        "company's enrollments when one answers.",
    ),
    UnenrollReason.MEETING_BOOKED: ReasonText(
        "Meeting booked", "A meeting was booked with the contact."
    ),
    UnenrollReason.UNSUBSCRIBED: ReasonText(
        "Unsubscribed",
        "The contact used the unsubscribe link or one-click List-Unsubscribe; the address "
        "is suppressed for every sequence.",
    ),
    UnenrollReason.BOUNCED: ReasonText(
        "Bounced",
        "A sequence email bounced permanently (a DSN, an NDR or an SMTP 5xx refusal); the "
        "address is suppressed.",
    ),
    UnenrollReason.WORKFLOW: ReasonText(
        "Workflow", "A workflow's “unenroll from sequence” action."
    ),
    UnenrollReason.UNENROLL_TRIGGER: ReasonText(
        "Unenrollment trigger", "An unenrollment trigger of the sequence's automation fired."
    ),
    UnenrollReason.FINISHED: ReasonText("Finished", "The last step ran."),
    UnenrollReason.MANUAL: ReasonText("Manual", "A user unenrolled the contact."),
    UnenrollReason.USER_DEACTIVATED: ReasonText(
        "User deactivated", "The user who enrolled the contact was deactivated."
    ),
    UnenrollReason.SEQUENCE_DELETED: ReasonText("Sequence deleted", "The sequence was deleted."),
    UnenrollReason.CONTACT_DELETED: ReasonText("Contact deleted", "The contact was deleted."),
}


def reason_label(code: str) -> str:
    found = REASONS.get(code)
    return found.label if found else code


def reason_choices() -> list[tuple[str, str]]:
    return [(code, text.label) for code, text in REASONS.items()]


def kind_label(kind: str) -> str:
    if kind == StepKind.AUTOMATED_EMAIL:
        return "Automated email"
    return str(StepKind(kind).label) if kind in StepKind.values else kind


def signed_in(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # LoginRequiredMiddleware lets no one else in
    return user


def viewer_zone(user: User) -> str:
    """The zone the viewer reads times in: their first mailbox's, else the server's."""
    zone = user.mailboxes.order_by("pk").values_list("time_zone", flat=True).first()
    return zone or settings.TIME_ZONE


def paginate(request: HttpRequest, rows: QuerySet[M]) -> Page[M]:
    """The requested page (``?page=``); a page number out of range gives the last page."""
    return Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))


def paginate_rows(
    request: HttpRequest, ordered: QuerySet[M], fetch: Callable[[QuerySet[M]], QuerySet[M]]
) -> tuple[Page[Any], list[M]]:
    """The requested page of ``ordered``, and that page's rows as ``fetch`` loads them.

    The page is chosen on the primary keys alone (narrow rows, no joins); only
    its rows are then loaded, by key, with their related objects. Three queries
    (count, keys, rows) whose cost stays flat however many rows match; a
    subquery instead of the key list lets PostgreSQL join every row first.
    ``fetch`` must order rows like ``ordered``.
    """
    keys = ordered.select_related(None).values_list("pk", flat=True)
    page: Page[Any] = Paginator(keys, PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    chosen = ordered.model._default_manager.filter(pk__in=page.object_list)
    return page, list(fetch(chosen))


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The ``next`` field when it points back into this site, else the fallback."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback
