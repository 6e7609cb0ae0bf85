"""The sequence page's Automation tab: what already ends enrollments on its own, and
what arrives with the automation and meetings features (no controls until then)."""

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from cadency.sequences.models import Sequence, UnenrollReason
from cadency.sequences.views.display import REASONS

AUTOMATIC_NOW = (
    UnenrollReason.REPLIED,
    UnenrollReason.EMAILED,
    UnenrollReason.REPLIED_OTHER_ADDRESS,
    UnenrollReason.EMAILED_FROM_ALIAS,
    UnenrollReason.COMPANY_REPLIED,
    UnenrollReason.UNSUBSCRIBED,
    UnenrollReason.BOUNCED,
    UnenrollReason.FINISHED,
    UnenrollReason.USER_DEACTIVATED,
    UnenrollReason.SEQUENCE_DELETED,
    UnenrollReason.CONTACT_DELETED,
)
COMING = (
    (UnenrollReason.MEETING_BOOKED, "meetings and calendars"),
    (UnenrollReason.WORKFLOW, "automation (workflows)"),
    (UnenrollReason.UNENROLL_TRIGGER, "automation (unenrollment triggers)"),
)


@dataclass(frozen=True)
class ReasonLine:
    code: str
    label: str
    line: str
    note: str = ""


def automation_page(request: HttpRequest, sequence_id: int) -> HttpResponse:
    sequence = get_object_or_404(Sequence, pk=sequence_id)
    company_note = (
        "On for new enrollments of this sequence."
        if sequence.unenroll_same_company
        else "Off for this sequence: turn it on in Settings."
    )
    automatic = [
        ReasonLine(
            code,
            REASONS[code].label,
            REASONS[code].line,
            company_note if code == UnenrollReason.COMPANY_REPLIED else "",
        )
        for code in AUTOMATIC_NOW
    ]
    coming = [
        ReasonLine(code, REASONS[code].label, REASONS[code].line, f"Arrives with {feature}.")
        for code, feature in COMING
    ]
    return render(
        request,
        "sequences/automation.html",
        {"sequence": sequence, "tab": "automation", "automatic": automatic, "coming": coming},
    )
