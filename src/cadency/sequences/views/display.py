"""Words and helpers the sequence pages share: reason labels, step kinds, the viewer's time zone."""

from dataclasses import dataclass

from django.conf import settings

from cadency.accounts.models import User
from cadency.sequences.models import StepKind, UnenrollReason


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


def viewer_zone(user: User) -> str:
    """The zone the viewer reads times in: their first mailbox's, else the server's."""
    zone = user.mailboxes.order_by("pk").values_list("time_zone", flat=True).first()
    return zone or settings.TIME_ZONE
