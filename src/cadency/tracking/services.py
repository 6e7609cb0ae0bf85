"""Recording tracked clicks and opens in the ledger.

A click is honoured only for a link Cadency put in that very email: the token's
signature proves Cadency made it, and the stored message of the run it names
must contain it. A person's click is an ``clicked`` event and a person's open an
``opened`` event, with the step's position, so reports count each enrollment once
per step; a machine's is ``clicked_bot`` / ``opened_bot``, kept as evidence and
never counted. Every click is recorded; opens at most once per run and kind an
hour (mail clients reload images each time the email is shown).
"""

import datetime as dt
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from django.conf import settings
from django.urls import reverse

from cadency.ledger.models import Event
from cadency.ledger.services import record_event
from cadency.outbound.models import SentMessage
from cadency.sequences.models import StepRun
from cadency.sequences.services.enrollment import contact_label
from cadency.tracking.bots import Hit, Kind, Verdict, classify
from cadency.tracking.tokens import InvalidToken, read_click_token, read_open_token

OPEN_EVERY = dt.timedelta(hours=1)
USER_AGENT_KEPT = 400


class InvalidLink(Exception):
    """Not a link of an email Cadency sent; the message says why."""


@dataclass(frozen=True)
class Click:
    url: str
    verdict: Verdict


def bot_seconds() -> int:
    return int(settings.CADENCY_TRACKING_BOT_SECONDS)


def sent_text(run_id: int) -> str | None:
    """The plain-text part of the email the run sent, as the contact received it."""
    raw = SentMessage.objects.filter(step_run_id=run_id).values_list("raw", flat=True).first()
    if raw is None:
        return None
    message = message_from_bytes(bytes(raw), policy=policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(("plain",))
    return str(part.get_content()) if part is not None else None


def follow_click(token: str, hit: Hit) -> Click:
    """The original URL of a tracked link, after recording the click (InvalidLink if none)."""
    try:
        claim = read_click_token(token)
    except InvalidToken as exc:
        raise InvalidLink(str(exc)) from exc
    run = (
        StepRun.objects.select_related("enrollment__contact", "enrollment__sequence")
        .filter(pk=claim.run_id)
        .first()
    )
    text = sent_text(claim.run_id) if run is not None else None
    if run is None or text is None or reverse("tracking:click", args=[token]) not in text:
        raise InvalidLink("the link is not one of an email Cadency sent")
    verdict = classify(
        hit, kind=Kind.CLICK, delivered_at=run.executed_at, bot_seconds=bot_seconds()
    )
    who = contact_label(run.enrollment.contact)
    record_event(
        kind="clicked" if verdict.human else "clicked_bot",
        enrollment=run.enrollment,
        sentence=(
            f"{who} clicked {claim.url} in the email of step {run.position}."
            if verdict.human
            else f"A machine followed {claim.url} in the email of step {run.position} to {who}; "
            f"not counted as a click: {verdict.reason}."
        ),
        data={**hit_data(run, hit, verdict), "url": claim.url, "index": claim.index},
    )
    return Click(url=claim.url, verdict=verdict)


def record_open(token: str, hit: Hit) -> Verdict | None:
    """Record the open the image token names; None when nothing was recorded."""
    try:
        run_id = read_open_token(token)
    except InvalidToken:
        return None
    run = (
        StepRun.objects.select_related("enrollment__contact", "enrollment__sequence")
        .filter(pk=run_id, message__isnull=False)
        .first()
    )
    if run is None:
        return None
    verdict = classify(hit, kind=Kind.OPEN, delivered_at=run.executed_at, bot_seconds=bot_seconds())
    kind = "opened" if verdict.human else "opened_bot"
    recently = Event.objects.filter(
        enrollment_id=run.enrollment_id,
        kind=kind,
        occurred_at__gte=hit.at - OPEN_EVERY,
        data__run=run.pk,
    )
    if recently.exists():
        return None
    who = contact_label(run.enrollment.contact)
    record_event(
        kind=kind,
        enrollment=run.enrollment,
        sentence=(
            f"{who} opened the email of step {run.position}."
            if verdict.human
            else f"A machine loaded the open image of step {run.position}'s email to {who}; "
            f"not counted as an open: {verdict.reason}."
        ),
        data=hit_data(run, hit, verdict),
    )
    return verdict


def hit_data(run: StepRun, hit: Hit, verdict: Verdict) -> dict[str, Any]:
    return {
        "position": run.position,
        "run": run.pk,
        "user_agent": hit.user_agent[:USER_AGENT_KEPT],
        "method": hit.method,
        "human": verdict.human,
        "bot_reason": verdict.reason,
    }
