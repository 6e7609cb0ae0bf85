"""The contact record: properties, addresses, enrolled banner, timeline, past enrollments."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from cadency.accounts.permissions import may_act_on, may_delete_contact
from cadency.contacts.forms import AliasForm
from cadency.contacts.models import Contact, Suppression
from cadency.contacts.timeline import DEFAULT_LIMIT, contact_timeline
from cadency.contacts.views.common import get_contact
from cadency.sequences.models import Enrollment, EnrollmentStatus, Step, StepRun, StepRunState
from cadency.sequences.models.enrollment import OPEN_STATUSES
from cadency.sequences.selectors import open_enrollment_of
from cadency.web.requests import signed_in_user


@dataclass(frozen=True)
class Banner:
    """The "enrolled in «sequence»" banner of an open enrollment."""

    enrollment: Enrollment
    step_count: int
    next_run: StepRun | None
    may_act: bool

    @property
    def is_paused(self) -> bool:
        return self.enrollment.status == EnrollmentStatus.PAUSED


def banner_for(contact: Contact, request: HttpRequest) -> Banner | None:
    enrollment = open_enrollment_of(contact)
    if enrollment is None:
        return None
    step_count = Step.objects.filter(
        sequence_id=enrollment.sequence_id, version=enrollment.sequence_version
    ).count()
    next_run = (
        enrollment.step_runs.filter(state__in=[StepRunState.SCHEDULED, StepRunState.SENDING])
        .order_by("due_at")
        .first()
    )
    may_act = may_act_on(signed_in_user(request), enrollment.enrolled_by_id)
    return Banner(enrollment, step_count, next_run, may_act)


def record_context(
    request: HttpRequest,
    contact: Contact,
    *,
    alias_form: AliasForm | None = None,
    alias_error: str = "",
) -> dict[str, Any]:
    aliases = list(contact.aliases.order_by("email"))
    addresses = [contact.email, *(alias.email for alias in aliases)]
    timeline = contact_timeline(contact)
    return {
        "contact": contact,
        "aliases": aliases,
        "alias_form": alias_form or AliasForm(),
        "alias_error": alias_error,
        "suppressions": list(Suppression.objects.filter(email__in=addresses).order_by("email")),
        "banner": banner_for(contact, request),
        "past_enrollments": list(
            contact.enrollments.exclude(status__in=OPEN_STATUSES)
            .select_related("sequence", "enrolled_by", "ended_by")
            .order_by("-started_at", "-pk")
        ),
        "timeline": timeline,
        "timeline_cut": len(timeline) >= DEFAULT_LIMIT,
        "properties": sorted(contact.properties.items()) if contact.properties else [],
        "now": timezone.now(),
        "demo_mode": settings.CADENCY_DEMO,
        "may_delete": contact.deleted_at is None
        and may_delete_contact(signed_in_user(request), contact),
        "open_count": contact.enrollments.filter(status__in=OPEN_STATUSES).count(),
    }


def render_record(
    request: HttpRequest, contact: Contact, *, status: int = 200, **extra: Any
) -> HttpResponse:
    return render(
        request,
        "contacts/contact_record.html",
        record_context(request, contact, **extra),
        status=status,
    )


def contact_record(request: HttpRequest, pk: int) -> HttpResponse:
    return render_record(request, get_contact(pk))
