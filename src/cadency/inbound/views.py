"""The Inbound pages: received mail with its label and decision, one message with its
evidence and ledger events, the raw message, Reprocess and Relabel.

Reps see and act on the mail of their own mailboxes; managers and admins on all.
"""

import json
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from cadency.accounts.models import User
from cadency.inbound.classification import Label
from cadency.inbound.models import DecisionCode, InboundMessage, InboundStatus
from cadency.inbound.pipeline import PENDING, header_text, reprocess
from cadency.inbound.relabel import RelabelError, relabel
from cadency.inbound.selectors import visible_messages
from cadency.ledger.models import Event
from cadency.mailboxes.models import Mailbox
from cadency.mailboxes.selectors import check_may_see, visible_mailboxes
from cadency.sequences.models import Enrollment
from cadency.web.pagination import page_of
from cadency.web.requests import signed_in_user

PER_PAGE = 50
SUMMARY_HEADERS = (
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Return-Path",
    "Auto-Submitted",
    "Precedence",
    "X-Autoreply",
    "X-Autorespond",
    "X-Auto-Response-Suppress",
    "List-Id",
    "Content-Type",
)
LIST_RELATIONS = ("mailbox__user", "contact", "enrollment__contact", "enrollment__sequence")


class InboundFilterForm(forms.Form):
    mailbox = forms.ModelChoiceField(
        queryset=Mailbox.objects.none(), required=False, empty_label="All mailboxes"
    )
    label = forms.ChoiceField(
        choices=[("", "Any label"), *((label.value, label.value) for label in Label)],
        required=False,
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *InboundStatus.choices], required=False)
    decision = forms.ChoiceField(
        choices=[("", "Any decision"), *DecisionCode.choices], required=False
    )

    def __init__(self, *args: Any, mailboxes: QuerySet[Mailbox], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["mailbox"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = mailboxes.order_by("email")

    def apply(self, found: QuerySet[InboundMessage]) -> QuerySet[InboundMessage]:
        if not self.is_valid():
            return found
        data = self.cleaned_data
        if data["mailbox"]:
            found = found.filter(mailbox=data["mailbox"])
        for name in ("label", "status", "decision"):
            if data[name]:
                found = found.filter(**{name: data[name]})
        return found


# --- access -----------------------------------------------------------------------


def get_message(actor: User, message_id: int) -> InboundMessage:
    """The message (404 if unknown), refused (403) if it arrived in a mailbox the
    actor may not see."""
    message = get_object_or_404(
        InboundMessage.objects.select_related(*LIST_RELATIONS, "relabeled_by"), pk=message_id
    )
    check_may_see(actor, message.mailbox)
    return message


# --- what the pages show ------------------------------------------------------------


@dataclass(frozen=True)
class MessageRow:
    message: InboundMessage
    reasons: list[str]
    confidence: float | None
    identity: list[str]


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def identity_lines(evidence: dict[str, Any]) -> list[str]:
    """How the message was tied to people and enrollments, in short phrases."""
    if evidence.get("own"):
        return [f"our own message ({evidence['own']})"]
    match = as_dict(evidence.get("match"))
    lines: list[str] = []
    sender = as_dict(match.get("sender"))
    if sender:
        lines.append(f"sender is a contact ({sender.get('how', '?')})")
    thread = as_dict(match.get("thread"))
    if thread:
        lines.append(f"in the thread of step {thread.get('step', '?')} ({thread.get('how', '?')})")
    company = as_dict(match.get("company"))
    if company:
        lines.append(f"same company by {company.get('how', '?')} {company.get('domain') or ''}")
    bounces = match.get("bounces")
    for item in bounces if isinstance(bounces, list) else []:
        bounce = as_dict(item)
        address, status = bounce.get("address", "?"), bounce.get("status", "")
        lines.append(
            f"bounce for {address} {status} ({'ours' if bounce.get('ours') else 'not ours'})"
        )
    return [line.strip() for line in lines] or (["no contact matched"] if evidence else [])


def row_of(message: InboundMessage) -> MessageRow:
    classification = as_dict(message.classification)
    reasons = classification.get("reasons")
    confidence = classification.get("confidence")
    return MessageRow(
        message=message,
        reasons=[str(r) for r in reasons] if isinstance(reasons, list) else [],
        confidence=float(confidence) if isinstance(confidence, int | float) else None,
        identity=identity_lines(as_dict(message.decision_evidence)),
    )


def pretty(value: dict[str, Any]) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def header_summary(raw: bytes) -> list[tuple[str, str]]:
    """The headers a person checks first, decoded; unreadable headers give none."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    except Exception:  # the raw bytes are still downloadable
        return []
    return [(name, header_text(headers, name)) for name in SUMMARY_HEADERS if name in headers]


def events_of(message: InboundMessage) -> QuerySet[Event]:
    """The ledger events the message caused (the unenrollments name it in their evidence)."""
    return (
        Event.objects.filter(
            Q(data__inbound_message=message.pk) | Q(data__evidence__inbound_message=message.pk)
        )
        .select_related("actor")
        .order_by("occurred_at", "pk")
    )


def is_human(label: str) -> bool:
    try:
        return Label(label).is_human
    except ValueError:
        return False


def who(enrollment: Enrollment) -> str:
    return enrollment.contact.full_name or enrollment.contact.email


def relabel_outcome(message: InboundMessage) -> str:
    """What a relabel did, in one sentence: "Relabelled as human_reply: Jane Doe was
    unenrolled from «Intro» (replied)."."""
    evidence = as_dict(message.decision_evidence)
    effects = [as_dict(e) for e in evidence.get("effects", []) if isinstance(e, dict)]
    concerned = Enrollment.objects.select_related("contact", "sequence").in_bulk(
        [e["enrollment"] for e in effects if isinstance(e.get("enrollment"), int)]
    )
    said: list[str] = []
    for effect in effects:
        enrollment = concerned.get(effect.get("enrollment", 0))
        outcome = effect.get("outcome")
        if outcome == "unenrolled" and enrollment is not None:
            said.append(
                f"{who(enrollment)} was unenrolled from «{enrollment.sequence.name}» "
                f"({enrollment.reason})"
            )
        elif outcome == "paused" and enrollment is not None:
            said.append(f"{who(enrollment)} was paused until {effect.get('detail')}")
        elif outcome == "suppressed":
            said.append(f"{effect.get('address')} is suppressed")
    if not said:
        said.append(f"{message.get_decision_display().lower()}; no enrollment changed")
    history = evidence.get("history")
    earlier = as_dict(history[-1]) if isinstance(history, list) and history else {}
    if earlier.get("decision") == DecisionCode.UNENROLLED and not is_human(message.label):
        said.append("the enrollment it ended stays ended (re-enroll by hand if needed)")
    return f"Relabelled as {message.label}: {'; '.join(said)}."


# --- pages --------------------------------------------------------------------------


def message_list(request: HttpRequest) -> HttpResponse:
    actor = signed_in_user(request)
    filters = InboundFilterForm(request.GET or None, mailboxes=visible_mailboxes(actor))
    found = filters.apply(
        visible_messages(actor)
        .select_related(*LIST_RELATIONS)
        .defer("raw")
        .order_by("-received_at", "-pk")
    )
    page = page_of(request, found, per_page=PER_PAGE)
    return render(
        request,
        "inbound/list.html",
        {
            "filters": filters,
            "page": page,
            "rows": [row_of(m) for m in page.object_list],
            "everyone": actor.can_act_on_all_enrollments(),
        },
        status=400 if filters.errors else 200,
    )


def message_detail(request: HttpRequest, message_id: int) -> HttpResponse:
    actor = signed_in_user(request)
    message = get_message(actor, message_id)
    evidence = as_dict(message.decision_evidence)
    classification = as_dict(message.classification)
    return render(
        request,
        "inbound/detail.html",
        {
            "message": message,
            "row": row_of(message),
            "headers": header_summary(bytes(message.raw)),
            "evidence": evidence,
            "classification": classification,
            "evidence_json": pretty(evidence),
            "classification_json": pretty(classification),
            "events": list(events_of(message)),
            "labels": [label.value for label in Label if label.value != message.label],
            "may_reprocess": message.status in PENDING,
            "may_relabel": message.status != InboundStatus.IGNORED_OWN,
        },
    )


def raw_message(request: HttpRequest, message_id: int) -> HttpResponse:
    message = get_message(signed_in_user(request), message_id)
    response = HttpResponse(bytes(message.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="inbound-{message.pk}.eml"'
    return response


@require_POST
def reprocess_message(request: HttpRequest, message_id: int) -> HttpResponse:
    message = get_message(signed_in_user(request), message_id)
    report = reprocess([message])
    message.refresh_from_db()
    if report.skipped:
        messages.info(request, f"Message {message.pk} is already processed; nothing to do.")
    elif report.failed:
        messages.error(request, f"Message {message.pk} failed again: {message.error}")
    else:
        sentence = as_dict(message.decision_evidence).get("sentence") or ""
        messages.success(
            request,
            f"Message {message.pk} reprocessed: {message.get_decision_display()}. {sentence}",
        )
    return redirect("inbound:detail", message_id=message.pk)


@require_POST
def relabel_message(request: HttpRequest, message_id: int) -> HttpResponse:
    actor = signed_in_user(request)
    message = get_message(actor, message_id)
    try:
        changed = relabel(message=message, label=request.POST.get("label", ""), actor=actor)
    except RelabelError as exc:
        messages.error(request, f"Not relabelled: {exc}. Nothing was changed.")
    else:
        messages.success(request, relabel_outcome(changed))
    return redirect("inbound:detail", message_id=message.pk)
