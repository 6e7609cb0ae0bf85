"""/inbound: received messages with label and decision; relabel decides again."""

import pytest

from cadency.accounts.models import User
from cadency.inbound.classification import Label
from cadency.inbound.models import InboundMessage
from cadency.sequences.models import Enrollment
from tests.api.support import Api, error_of, snapshot
from tests.factories import make_contact
from tests.inbound.support import classified, enrolled, process, reply_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def auto_reply(alice: User) -> InboundMessage:
    """An out-of-office in alice's mailbox, in the thread of her enrollment."""
    enrollment = enrolled(alice, make_contact("jane@acme.test"))
    return process(alice.mailboxes.get(), classified(Label.AUTO_REPLY), **reply_to(enrollment))


def test_it_lists_messages_with_label_and_decision(
    as_alice: Api, auto_reply: InboundMessage
) -> None:
    page = as_alice.get("/inbound").json()
    assert page["count"] == 1
    item = page["items"][0]
    assert (item["label"], item["decision"]) == ("auto_reply", "timeline_only")
    assert item["enrollment"] == auto_reply.enrollment_id
    assert "raw" not in item
    assert as_alice.get("/inbound", label="human_reply").json()["count"] == 0
    assert as_alice.get("/inbound", decision="timeline_only").json()["count"] == 1


def test_it_shows_one_message_with_its_reasons(as_alice: Api, auto_reply: InboundMessage) -> None:
    body = as_alice.get(f"/inbound/{auto_reply.pk}").json()
    assert body["classification"]["reasons"] == ["test: auto_reply"]


def test_relabelling_as_a_reply_ends_the_enrollment(
    as_alice: Api, alice: User, auto_reply: InboundMessage
) -> None:
    response = as_alice.post(f"/inbound/{auto_reply.pk}/relabel", {"label": "human_reply"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["label"], body["original_label"], body["decision"]) == (
        "human_reply",
        "auto_reply",
        "unenrolled",
    )
    assert body["relabeled_by"]["username"] == "alice"
    enrollment = Enrollment.objects.get(pk=auto_reply.enrollment_id)
    assert (enrollment.status, enrollment.reason) == ("unenrolled", "replied")


def test_a_rep_cannot_see_or_relabel_another_reps_mail(
    as_bob: Api, auto_reply: InboundMessage
) -> None:
    assert as_bob.get("/inbound").json()["count"] == 0
    error_of(as_bob.get(f"/inbound/{auto_reply.pk}"), 403, "forbidden")
    before = snapshot()
    response = as_bob.post(f"/inbound/{auto_reply.pk}/relabel", {"label": "human_reply"})
    error_of(response, 403, "forbidden")
    assert snapshot() == before


def test_a_manager_sees_everyones_mail(as_maya: Api, auto_reply: InboundMessage) -> None:
    assert as_maya.get("/inbound").json()["count"] == 1


def test_relabelling_to_the_same_label_is_a_conflict(
    as_alice: Api, auto_reply: InboundMessage
) -> None:
    before = snapshot()
    response = as_alice.post(f"/inbound/{auto_reply.pk}/relabel", {"label": "auto_reply"})
    assert "already" in error_of(response, 409, "conflict")
    assert snapshot() == before


def test_bad_input(as_alice: Api, auto_reply: InboundMessage) -> None:
    before = snapshot()
    error_of(as_alice.post(f"/inbound/{auto_reply.pk}/relabel", {"label": "spam"}), 400, "invalid")
    error_of(as_alice.post(f"/inbound/{auto_reply.pk}/relabel", {}), 400, "invalid")
    error_of(as_alice.post("/inbound/999/relabel", {"label": "human_reply"}), 404, "not_found")
    error_of(as_alice.get("/inbound", label="spam"), 400, "invalid")
    error_of(as_alice.get("/inbound", mailbox=999), 404, "not_found")
    assert snapshot() == before
