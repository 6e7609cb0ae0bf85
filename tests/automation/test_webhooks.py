"""Webhooks against a real HTTP receiver on loopback: signature, retries, delivery log."""

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cadency.automation.models import DeliveryStatus, TriggerType, WebhookDelivery, Workflow
from cadency.automation.services.webhooks import verify
from cadency.automation.services.workflows import create_workflow, rotate_secret
from cadency.contacts.editing import set_contact_field
from tests.automation.support import queued, run_automation
from tests.factories import make_contact, make_user

pytestmark = pytest.mark.django_db


@dataclass
class Receiver:
    """Answers each POST with the next status in ``answers`` (then 200) and keeps it."""

    port: int = 0
    answers: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cadency-hook"


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    settings.CADENCY_WEBHOOKS_ALLOW_HTTP = True
    settings.CADENCY_WEBHOOK_RETRY_DELAYS = [1, 1]
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append((dict(self.headers.items()), body))
            status = state.answers.pop(0) if state.answers else 200
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def hook_workflow(url: str) -> Workflow:
    return create_workflow(
        owner=make_user("ria"),
        enabled=True,
        name="Tell the CRM",
        trigger_type=TriggerType.CONTACT_PROPERTY_CHANGED,
        trigger_filters={"field": "lifecycle_stage"},
        conditions=[],
        actions=[{"type": "webhook", "url": url}],
    )


def receiver_accepts(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver writes, independently of Cadency's code."""
    parts = dict(item.split("=", 1) for item in headers["Cadency-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    fresh = abs(time.time() - int(parts["t"])) < 300
    return fresh and hmac.compare_digest(expected.hexdigest(), parts["v1"])


def test_the_receiver_gets_a_signed_payload_it_can_verify(receiver: Receiver) -> None:
    workflow = hook_workflow(receiver.url)
    contact = make_contact("jane@acme.test")
    set_contact_field(contact=contact, field="lifecycle_stage", value="customer", actor=None)
    run_automation()
    ((headers, body),) = receiver.received
    assert receiver_accepts(workflow.webhook_secret, headers, body)
    assert not receiver_accepts("another secret", headers, body)
    assert verify(workflow.webhook_secret, headers["Cadency-Signature"], body, now=time.time())
    payload = json.loads(body)
    assert payload["contact"]["email"] == "jane@acme.test"
    assert payload["event"]["data"]["changes"]["lifecycle_stage"] == ["lead", "customer"]
    assert payload["workflow"] == {"id": workflow.pk, "name": "Tell the CRM"}
    delivery = WebhookDelivery.objects.get()
    assert headers["Cadency-Delivery"] == str(delivery.pk)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert [a["status_code"] for a in delivery.attempts] == [200]


def test_an_altered_body_or_an_old_signature_is_rejected(receiver: Receiver) -> None:
    workflow = hook_workflow(receiver.url)
    set_contact_field(contact=make_contact(), field="lifecycle_stage", value="customer", actor=None)
    run_automation()
    ((headers, body),) = receiver.received
    header = headers["Cadency-Signature"]
    assert not verify(workflow.webhook_secret, header, body + b" ", now=time.time())
    assert not verify(workflow.webhook_secret, header, body, now=time.time() + 3600)


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(receiver: Receiver) -> None:
    receiver.answers = [500, 503]
    hook_workflow(receiver.url)
    set_contact_field(contact=make_contact(), field="lifecycle_stage", value="customer", actor=None)
    run_automation()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at is not None
    assert len(queued("deliver_webhook")) == 1  # the retry waits for its time
    run_automation(include_later=True)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert [a["status_code"] for a in delivery.attempts] == [500, 503, 200]
    assert delivery.attempts[0]["error"] == "HTTP 500 Internal Server Error"
    first, *_, last = receiver.received
    assert first[0]["Cadency-Delivery"] == last[0]["Cadency-Delivery"]  # same id on retries


def test_a_delivery_fails_after_the_last_retry_and_says_why(receiver: Receiver) -> None:
    receiver.answers = [500, 500, 500]
    hook_workflow(receiver.url)
    set_contact_field(contact=make_contact(), field="lifecycle_stage", value="customer", actor=None)
    run_automation(include_later=True)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert len(delivery.attempts) == 3
    assert queued("deliver_webhook") == []


def test_an_unreachable_receiver_is_logged_as_a_connection_error(settings: Any) -> None:
    settings.CADENCY_WEBHOOKS_ALLOW_HTTP = True
    hook_workflow("http://127.0.0.1:9/nothing-listens")
    set_contact_field(contact=make_contact(), field="lifecycle_stage", value="customer", actor=None)
    run_automation()
    (attempt,) = WebhookDelivery.objects.get().attempts
    assert attempt["status_code"] is None
    assert "URLError" in attempt["error"] and "refused" in attempt["error"].lower()


def test_https_is_required_unless_allowed() -> None:
    from cadency.automation.services.workflows import WorkflowError

    with pytest.raises(WorkflowError, match="webhooks go to https URLs"):
        hook_workflow("http://crm.example.com/hook")


def test_rotating_the_secret_signs_later_deliveries_with_the_new_one(receiver: Receiver) -> None:
    workflow = hook_workflow(receiver.url)
    new_secret = rotate_secret(workflow=workflow, actor=workflow.owner)
    set_contact_field(contact=make_contact(), field="lifecycle_stage", value="customer", actor=None)
    run_automation()
    ((headers, body),) = receiver.received
    assert receiver_accepts(new_secret, headers, body)
