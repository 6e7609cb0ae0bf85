"""Unsubscribing through a sequence email's link or one-click List-Unsubscribe."""

from django.db import transaction

from cadency.contacts.models import Suppression, SuppressionReason
from cadency.ledger.services import record_event
from cadency.outbound.unsubscribe_tokens import InvalidToken, UnsubscribeClaim, read_token
from cadency.sequences.models import Enrollment, UnenrollReason
from cadency.sequences.services.enrollment import unenroll


def enrollment_for_token(token: str) -> tuple[UnsubscribeClaim, Enrollment]:
    claim = read_token(token)
    enrollment = (
        Enrollment.objects.select_related("contact", "sequence", "mailbox")
        .filter(pk=claim.enrollment_id, email=claim.email)
        .first()
    )
    if enrollment is None:
        raise InvalidToken("this unsubscribe link does not match any email we sent")
    return claim, enrollment


def unsubscribe(token: str, *, one_click: bool) -> Enrollment:
    """Suppress the address for every sequence and end the enrollment. Idempotent."""
    claim, enrollment = enrollment_for_token(token)
    how = "one-click List-Unsubscribe" if one_click else "the unsubscribe link"
    with transaction.atomic():
        _, created = Suppression.objects.get_or_create(
            email=claim.email,
            defaults={
                "reason": SuppressionReason.UNSUBSCRIBED,
                "detail": f"via {how} in «{enrollment.sequence.name}»",
                "enrollment": enrollment,
            },
        )
        if created:
            record_event(
                kind="suppressed",
                enrollment=enrollment,
                sentence=f"{claim.email} unsubscribed via {how}; no sequence will email it again.",
                data={"reason": "unsubscribed", "one_click": one_click},
            )
        unenroll(
            enrollment=enrollment,
            reason=UnenrollReason.UNSUBSCRIBED,
            evidence={"via": "one_click" if one_click else "link", "email": claim.email},
            sentence=f"{claim.email} unsubscribed from «{enrollment.sequence.name}» via {how}.",
        )
    return enrollment
