"""The Inbound pages: the list, one message, the raw download, Reprocess and Relabel."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from cadency.accounts.models import Role, User
from cadency.inbound import views
from cadency.inbound.classification import Label
from cadency.inbound.models import InboundMessage, InboundStatus
from cadency.inbound.pipeline import store_message
from cadency.ledger.models import Event
from cadency.sequences.models import Enrollment
from tests.factories import make_contact, make_user
from tests.inbound.support import classified, enrolled, process, rep, reply_to, stored

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def fresh(enrollment: Enrollment) -> Enrollment:
    enrollment.refresh_from_db()
    return enrollment


def page_text(client: Client, url: str, **params: str) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def failed_message(mailbox_owner_enrollment: Enrollment) -> InboundMessage:
    """A reply stored but never processed: the classifier broke on it."""
    message = stored(mailbox_owner_enrollment.mailbox, **reply_to(mailbox_owner_enrollment))
    InboundMessage.objects.filter(pk=message.pk).update(
        status=InboundStatus.FAILED, error="classify: RuntimeError: classifier crashed"
    )
    message.refresh_from_db()
    return message


def test_the_list_shows_label_reasons_decision_and_the_enrollment() -> None:
    alice, mailbox = rep()
    jane = make_contact("jane@acme.test")
    enrollment = enrolled(alice, jane)
    reasons = ["In-Reply-To names our step 1", "no auto-reply header"]
    process(mailbox, classified(reasons=reasons), **reply_to(enrollment, subject="Re: Lunch"))

    html = page_text(signed_in(alice), "/inbound/")
    assert "Re: Lunch" in html and "Jane Doe" in html and "jane@acme.test" in html
    assert "human_reply" in html and "0.95" in html
    assert all(reason in html for reason in reasons)
    assert "Unenrolled" in html and "in the thread of step 1 (in_reply_to)" in html
    assert f'href="/contacts/{jane.pk}/"' in html and "replied" in html
    assert "processed" in html


def test_a_failed_message_shows_its_error_and_the_filters_find_it() -> None:
    alice, mailbox = rep()
    enrollment = enrolled(alice, make_contact("jane@acme.test"))
    failed_message(enrollment)
    process(
        mailbox, classified(Label.AUTO_REPLY), sender="sam@globex.test", subject="Out of office"
    )
    client = signed_in(alice)

    html = page_text(client, "/inbound/", status="failed")
    assert "classify: RuntimeError: classifier crashed" in html
    assert "Out of office" not in html
    html = page_text(client, "/inbound/", label="auto_reply", mailbox=str(mailbox.pk))
    assert "Out of office" in html and "classifier crashed" not in html
    html = page_text(client, "/inbound/", decision="no_enrollment")
    assert "Out of office" in html and "classifier crashed" not in html
    assert "No message matches" in page_text(client, "/inbound/", decision="unenrolled")


def test_a_bad_filter_value_gets_its_error() -> None:
    alice, _ = rep()
    response = signed_in(alice).get("/inbound/", {"status": "lost", "mailbox": "999999"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Select a valid choice. lost is not one of the available choices." in html
    assert "Select a valid choice. That choice is not one of the available choices." in html


def test_the_list_pages_newest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "PER_PAGE", 2)
    alice, mailbox = rep()
    for n in range(3):
        process(mailbox, classified(Label.OTHER_AUTO), subject=f"Notice {n}")
    client = signed_in(alice)
    first = page_text(client, "/inbound/")
    assert "Notice 2" in first and "Notice 1" in first and "Notice 0" not in first
    assert "Page 1 of 2" in first and "page=2" in first
    second = page_text(client, "/inbound/", page="2")
    assert "Notice 0" in second and "Notice 2" not in second


def test_the_list_runs_a_constant_number_of_queries() -> None:
    alice, mailbox = rep()
    manager = make_user("mo", role=Role.MANAGER)
    client = signed_in(manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/inbound/").status_code == 200
        return len(captured)

    for n in range(2):
        enrollment = enrolled(alice, make_contact(f"c{n}@acme.test"))
        process(mailbox, classified(), **reply_to(enrollment))
    few = queries()
    for n in range(2, 12):
        enrollment = enrolled(alice, make_contact(f"c{n}@acme.test"))
        process(mailbox, classified(), **reply_to(enrollment))
    failed_message(enrolled(alice, make_contact("late@acme.test")))
    assert queries() == few


def test_a_rep_sees_only_the_mail_of_their_own_mailboxes() -> None:
    alice, alice_box = rep("alice")
    _, bob_box = rep("bob")
    process(alice_box, classified(), subject="For Alice")
    theirs = process(bob_box, classified(), subject="For Bob")
    client = signed_in(alice)

    html = page_text(client, "/inbound/")
    assert "For Alice" in html and "For Bob" not in html
    assert bob_box.email not in html, "another rep's mailbox is not even a filter choice"
    for url in (f"/inbound/{theirs.pk}/", f"/inbound/{theirs.pk}/raw/"):
        assert client.get(url).status_code == 403, url
    assert client.get("/inbound/", {"mailbox": bob_box.pk}).status_code == 400

    manager = signed_in(make_user("mo", role=Role.MANAGER))
    html = page_text(manager, "/inbound/")
    assert "For Alice" in html and "For Bob" in html
    assert manager.get(f"/inbound/{theirs.pk}/").status_code == 200


def test_a_rep_cannot_relabel_or_reprocess_another_reps_mail() -> None:
    alice, _ = rep("alice")
    bob, bob_box = rep("bob")
    enrollment = enrolled(bob, make_contact("jane@acme.test"))
    message = process(bob_box, classified(Label.AUTO_REPLY), **reply_to(enrollment))
    broken = failed_message(enrollment)
    client = signed_in(alice)

    relabel = client.post(f"/inbound/{message.pk}/relabel/", {"label": "human_reply"})
    again = client.post(f"/inbound/{broken.pk}/reprocess/")
    assert (relabel.status_code, again.status_code) == (403, 403)
    message.refresh_from_db()
    broken.refresh_from_db()
    assert (message.label, message.relabeled_by) == ("auto_reply", None)
    assert broken.status == InboundStatus.FAILED
    assert fresh(enrollment).status == "active"
    assert not Event.objects.filter(kind="relabeled").exists()


def test_unknown_message_ids_get_404() -> None:
    alice, _ = rep()
    client = signed_in(alice)
    for url in ("/inbound/999999/", "/inbound/999999/raw/"):
        assert client.get(url).status_code == 404
    for url in ("/inbound/999999/relabel/", "/inbound/999999/reprocess/"):
        assert client.post(url, {"label": "human_reply"}).status_code == 404


def test_the_detail_shows_headers_reasons_evidence_and_the_ledger_events() -> None:
    alice, mailbox = rep()
    enrollment = enrolled(alice, make_contact("jane@acme.test"))
    message = process(
        mailbox,
        classified(reasons=["no Auto-Submitted header", "a person's sentence"]),
        **reply_to(enrollment, subject="Re: Quick question"),
    )
    html = page_text(signed_in(alice), f"/inbound/{message.pk}/")
    assert "Jane Doe &lt;jane@acme.test&gt;" in html, "the From header, decoded"
    assert "alice@example.test" in html and escape(message.message_id) in html
    assert "no Auto-Submitted header" in html and "a person&#x27;s sentence" in html
    assert "rules: replied" in html and "in the thread of step 1 (in_reply_to)" in html
    unenrolled = Event.objects.get(kind="unenrolled", enrollment=enrollment)
    assert unenrolled.sentence.replace("“", "").split(" to step")[0].split("Jane Doe")[1] in html
    assert "Ledger events it caused" in html and '<span class="badge">unenrolled</span>' in html
    assert f'href="/inbound/{message.pk}/raw/"' in html
    assert "Reprocess" not in html, "only a failed or unprocessed message is reprocessed"


def test_the_raw_message_downloads_as_an_rfc822_attachment() -> None:
    alice, mailbox = rep()
    message = process(mailbox, classified(), subject="Raw please")
    response = signed_in(alice).get(f"/inbound/{message.pk}/raw/")
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"] == f'attachment; filename="inbound-{message.pk}.eml"'
    assert response.content == bytes(message.raw)


def test_relabelling_through_the_page_unenrolls_as_the_service_says() -> None:
    alice, mailbox = rep()
    enrollment = enrolled(alice, make_contact("jane@acme.test"))
    message = process(mailbox, classified(Label.AUTO_REPLY), **reply_to(enrollment))
    assert fresh(enrollment).status == "active"
    client = signed_in(alice)

    response = client.post(f"/inbound/{message.pk}/relabel/", {"label": "human_reply"}, follow=True)
    html = response.content.decode()
    assert "Relabelled as human_reply: Jane Doe was unenrolled from «Intro» (replied)." in html
    enrollment = fresh(enrollment)
    assert (enrollment.status, enrollment.reason, enrollment.ended_by) == (
        "unenrolled",
        "replied",
        alice,
    )
    message.refresh_from_db()
    assert (message.label, message.original_label, message.relabeled_by) == (
        "human_reply",
        "auto_reply",
        alice,
    )
    assert "Relabelled from auto_reply by Alice Example" in html
    assert '<span class="badge">relabeled</span>' in html, "the ledger event is listed"

    back = client.post(f"/inbound/{message.pk}/relabel/", {"label": "auto_reply"}, follow=True)
    assert "the enrollment it ended stays ended (re-enroll by hand if needed)" in (
        back.content.decode()
    )
    assert fresh(enrollment).status == "unenrolled"


def test_relabelling_to_an_unknown_label_is_refused_and_changes_nothing() -> None:
    alice, mailbox = rep()
    enrollment = enrolled(alice, make_contact("jane@acme.test"))
    message = process(mailbox, classified(Label.AUTO_REPLY), **reply_to(enrollment))
    client = signed_in(alice)

    for label, error in [
        ("spam", "Not relabelled: unknown label &#x27;spam&#x27;; use one of: human_reply"),
        ("auto_reply", f"Not relabelled: message {message.pk} is already labelled auto_reply"),
    ]:
        response = client.post(f"/inbound/{message.pk}/relabel/", {"label": label}, follow=True)
        assert error in response.content.decode()
    message.refresh_from_db()
    assert (message.label, message.relabeled_by) == ("auto_reply", None)
    assert fresh(enrollment).status == "active"
    assert not Event.objects.filter(kind="relabeled").exists()


def test_a_manager_relabels_a_reps_mail() -> None:
    alice, mailbox = rep()
    enrollment = enrolled(alice, make_contact("jane@acme.test"))
    message = process(mailbox, classified(Label.READ_RECEIPT), **reply_to(enrollment))
    manager = make_user("mo", role=Role.MANAGER)
    signed_in(manager).post(f"/inbound/{message.pk}/relabel/", {"label": "human_reply"})
    assert (fresh(enrollment).reason, fresh(enrollment).ended_by) == ("replied", manager)


def test_reprocess_runs_a_failed_message_again() -> None:
    alice, _ = rep()
    enrollment = enrolled(alice, make_contact("jane@acme.test"))
    message = failed_message(enrollment)
    client = signed_in(alice)
    html = page_text(client, f"/inbound/{message.pk}/")
    assert "classify: RuntimeError: classifier crashed" in html and "Reprocess" in html

    response = client.post(f"/inbound/{message.pk}/reprocess/", follow=True)
    html = response.content.decode()
    assert f"Message {message.pk} reprocessed: Unenrolled." in html
    message.refresh_from_db()
    assert (message.status, message.label, message.error) == ("processed", "human_reply", "")
    assert fresh(enrollment).reason == "replied"

    again = client.post(f"/inbound/{message.pk}/reprocess/", follow=True)
    assert f"Message {message.pk} is already processed; nothing to do." in again.content.decode()


def test_a_message_that_fails_again_says_so() -> None:
    alice, mailbox = rep()
    message, _ = store_message(mailbox=mailbox, folder="INBOX", uidvalidity=1, uid=1, raw=b"")
    InboundMessage.objects.filter(pk=message.pk).update(status=InboundStatus.FAILED, error="x")
    response = signed_in(alice).post(f"/inbound/{message.pk}/reprocess/", follow=True)
    assert f"Message {message.pk} failed again: classify: UnparseableMessage" in (
        response.content.decode()
    )


def test_html_in_subjects_and_sender_names_is_escaped() -> None:
    alice, mailbox = rep()
    message = process(
        mailbox,
        classified(reasons=["<b>bold</b> reason"]),
        sender='"<img src=x onerror=alert(1)>" <evil@acme.test>',
        subject="<script>alert('x')</script>",
    )
    client = signed_in(alice)
    for url in ("/inbound/", f"/inbound/{message.pk}/"):
        html = page_text(client, url)
        assert "<script>alert(" not in html and "<img src=x" not in html
        assert "<b>bold</b>" not in html
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
