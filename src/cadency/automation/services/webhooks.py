"""Webhook deliveries: a signed POST, retried with backoff, every attempt logged.

The receiver checks ``Cadency-Signature: t=<unix time>,v1=<hex>`` where ``v1`` is
HMAC-SHA256 over ``"<t>.<body>"`` with the workflow's secret; ``Cadency-Delivery``
identifies the delivery (the same on every retry, so receivers can de-duplicate).
"""

import datetime as dt
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cadency.automation.models import DeliveryStatus, WebhookDelivery, WorkflowRun
from cadency.ledger.models import Event

SIGNATURE_HEADER = "Cadency-Signature"
DELIVERY_HEADER = "Cadency-Delivery"
TIMEOUT_SECONDS = 10


def check_url(url: str) -> str:
    """Why this URL cannot receive webhooks, or "" when it can."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"{url!r} is not an http(s) URL"
    if parts.scheme == "http" and not settings.CADENCY_WEBHOOKS_ALLOW_HTTP:
        return "webhooks go to https URLs (set CADENCY_WEBHOOKS_ALLOW_HTTP=1 to allow http)"
    if len(url) > 2000:
        return "the URL is longer than 2000 characters"
    return ""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(secret: str, header: str, body: bytes, *, now: float, tolerance: int = 300) -> bool:
    """What a receiver does (and what the tests do): check the signature and its age."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), fields.get("v1", ""))


def event_json(event: Event) -> dict[str, Any]:
    return {
        "id": event.pk,
        "kind": event.kind,
        "occurred_at": event.occurred_at.isoformat(),
        "sentence": event.sentence,
        "data": event.data,
        "sequence": event.sequence_id,
        "enrollment": event.enrollment_id,
    }


def build_payload(run: WorkflowRun) -> dict[str, Any]:
    contact = run.contact
    return {
        "workflow": {"id": run.workflow_id, "name": run.workflow.name},
        "run": run.pk,
        "trigger": run.workflow.trigger_type,
        "event": event_json(run.event),
        "contact": {
            "id": contact.pk,
            "email": contact.email,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "lifecycle_stage": contact.lifecycle_stage,
            "company": contact.company.name if contact.company else None,
            "properties": contact.properties,
        },
    }


def queue_delivery(*, run_id: int, url: str) -> WebhookDelivery:
    """Create the delivery and queue its first attempt (in the caller's transaction)."""
    from cadency.automation.tasks import deliver_webhook

    run = WorkflowRun.objects.select_related("workflow", "event", "contact__company").get(pk=run_id)
    delivery = WebhookDelivery.objects.create(
        run=run, url=url, payload=build_payload(run), next_attempt_at=timezone.now()
    )
    deliver_webhook.enqueue(delivery.pk)
    return delivery


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    # check_url allowed only http(s) when the workflow was saved.
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"{type(exc).__name__}: {reason}"


def deliver(delivery_id: int) -> str:
    """One attempt. Success is any 2xx; otherwise the next attempt is queued after the
    backoff in CADENCY_WEBHOOK_RETRY_DELAYS, and the delivery fails after the last."""
    from cadency.automation.tasks import deliver_webhook

    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("run__workflow")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return "not_pending"
        now = timezone.now()
        if delivery.next_attempt_at and delivery.next_attempt_at > now + dt.timedelta(seconds=1):
            return "not_due"
        body = json.dumps(delivery.payload, sort_keys=True).encode()
        timestamp = int(time.time())
        secret = delivery.run.workflow.webhook_secret
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Cadency-Webhooks/1",
            DELIVERY_HEADER: str(delivery.pk),
            SIGNATURE_HEADER: f"t={timestamp},v1={signature(secret, timestamp, body)}",
        }
        started = time.monotonic()
        status_code, error = post(delivery.url, body, headers)
        ok = status_code is not None and 200 <= status_code < 300
        delivery.attempts = [
            *delivery.attempts,
            {
                "at": now.isoformat(),
                "status_code": status_code,
                "error": "" if ok else error,
                "seconds": round(time.monotonic() - started, 3),
            },
        ]
        delays = settings.CADENCY_WEBHOOK_RETRY_DELAYS
        if ok:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = timezone.now()
            delivery.next_attempt_at = None
        elif len(delivery.attempts) > len(delays):
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
        else:
            later = timezone.now() + dt.timedelta(seconds=delays[len(delivery.attempts) - 1])
            delivery.next_attempt_at = later
            deliver_webhook.using(run_after=later).enqueue(delivery.pk)
        delivery.save(update_fields=["attempts", "status", "delivered_at", "next_attempt_at"])
    return delivery.status
