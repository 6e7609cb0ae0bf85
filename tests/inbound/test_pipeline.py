"""The pipeline: store, statuses, failures that keep the raw bytes, reprocessing, idempotence."""

import json
from typing import Any

import pytest

from cadency.contacts.models import Suppression
from cadency.inbound import pipeline
from cadency.inbound.classification import Label
from cadency.inbound.models import InboundMessage, InboundStatus
from cadency.inbound.pipeline import (
    extract_headers,
    pending_messages,
    process_classified,
    process_message,
    reprocess,
    store_message,
)
from cadency.ledger.models import Event
from cadency.sequences.models import Enrollment
from tests.factories import make_contact
from tests.inbound.support import (
    WHEN,
    classified,
    enrolled,
    our_id,
    rep,
    reply_to,
    rfc5322,
    stored,
)

pytestmark = pytest.mark.django_db


def fresh(enrollment: Enrollment) -> Enrollment:
    enrollment.refresh_from_db()
    return enrollment


def test_store_keeps_the_raw_bytes_and_reads_the_headers() -> None:
    _, mailbox = rep()
    raw = rfc5322(
        sender="=?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <Juergen@Acme.test>",
        subject="=?utf-8?q?Re:_Gr=C3=BC=C3=9Fe?=",
        in_reply_to="<a.1@example.test>",
        references="<a.0@example.test>   <a.1@example.test>",
        message_id="<reply.7@mail.acme.test>",
    )
    message, created = store_message(mailbox=mailbox, folder="INBOX", uidvalidity=9, uid=4, raw=raw)
    assert created
    message.refresh_from_db()
    assert bytes(message.raw) == raw
    assert message.status == InboundStatus.RECEIVED
    assert (message.from_address, message.from_name) == ("Juergen@Acme.test", "Jürgen Müller")
    assert message.subject == "Re: Grüße"
    assert message.message_id == "<reply.7@mail.acme.test>"
    assert message.in_reply_to == "<a.1@example.test>"
    assert message.references == "<a.0@example.test> <a.1@example.test>"
    assert message.sent_at == WHEN


def test_the_same_message_is_never_stored_twice() -> None:
    _, mailbox = rep()
    raw = rfc5322(message_id="<once@mail.acme.test>")
    first, created = store_message(mailbox=mailbox, folder="INBOX", uidvalidity=1, uid=5, raw=raw)
    again, created_again = store_message(
        mailbox=mailbox, folder="INBOX", uidvalidity=1, uid=5, raw=raw
    )
    # after a UIDVALIDITY change, or moved to another watched folder: same Message-ID
    renumbered, created_renumbered = store_message(
        mailbox=mailbox, folder="Archive", uidvalidity=2, uid=1, raw=raw
    )
    assert (created, created_again, created_renumbered) == (True, False, False)
    assert first.pk == again.pk == renumbered.pk
    assert InboundMessage.objects.count() == 1


def test_a_message_without_message_id_moved_to_another_folder_is_not_stored_again() -> None:
    _, mailbox = rep()
    raw = rfc5322().replace(b"Message-ID:", b"X-No-Id:")
    assert extract_headers(raw).message_id == ""
    first, created = store_message(mailbox=mailbox, folder="INBOX", uidvalidity=1, uid=7, raw=raw)
    moved, created_again = store_message(
        mailbox=mailbox, folder="Replies", uidvalidity=3, uid=1, raw=raw
    )
    assert (created, created_again, moved.pk) == (True, False, first.pk)
    other = raw.replace(b"Tuesday", b"Wednesday")
    _, created_other = store_message(
        mailbox=mailbox, folder="Replies", uidvalidity=3, uid=2, raw=other
    )
    assert created_other, "different bytes are a different message"


def test_garbage_headers_are_tolerated() -> None:
    raw = (
        b"From: \xff\xfe broken <<<\r\nSubject: caf\xe9 \x00 au lait\r\n"
        b"Date: the day after tomorrow\r\nMessage-ID: no brackets here\r\n\r\nbody"
    )
    headers = extract_headers(raw)
    assert headers.sent_at is None
    assert "\x00" not in headers.subject and headers.subject.startswith("caf")
    assert headers.message_id == "no brackets here"
    _, mailbox = rep()
    message, created = store_message(mailbox=mailbox, folder="INBOX", uidvalidity=1, uid=1, raw=raw)
    assert created and message.pk
    assert extract_headers(b"") == pipeline.Headers()


def test_an_unparseable_message_fails_keeps_its_raw_bytes_and_changes_nothing() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    events = Event.objects.count()
    message, _ = store_message(mailbox=mailbox, folder="INBOX", uidvalidity=1, uid=1, raw=b"")
    done = process_message(message)
    done.refresh_from_db()
    assert done.status == InboundStatus.FAILED
    assert done.error.startswith("classify: UnparseableMessage")
    assert bytes(done.raw) == b""
    assert (done.label, done.decision) == ("", "")
    assert fresh(enrollment).status == "active"
    assert Event.objects.count() == events


def test_a_failure_while_acting_rolls_everything_back_and_reprocess_recovers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    message = stored(mailbox, **reply_to(enrollment))
    real_act = pipeline.act

    def broken(*args: Any, **kwargs: Any) -> Any:
        real_act(*args, **kwargs)  # the enrollment ends… then something breaks
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "act", broken)
    failed = process_classified(message, classified(), now=WHEN)
    failed.refresh_from_db()
    assert (failed.status, failed.error) == ("failed", "act: RuntimeError: disk full")
    assert fresh(enrollment).status == "active", "nothing of the failed attempt stays"
    assert not Event.objects.filter(kind="unenrolled").exists()

    monkeypatch.setattr(pipeline, "act", real_act)
    assert list(pending_messages()) == [failed]
    done = process_classified(failed, classified(), now=WHEN)
    assert done.status == InboundStatus.PROCESSED
    assert fresh(enrollment).reason == "replied"


def test_processing_twice_acts_once() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    message = stored(mailbox, **reply_to(enrollment))
    process_classified(message, classified(), now=WHEN)
    process_classified(message, classified(), now=WHEN)
    message.refresh_from_db()
    process_message(message)  # processed: left alone, the classifier is not even called
    assert Event.objects.filter(kind="unenrolled").count() == 1
    assert Event.objects.filter(kind="message_received").count() == 1
    # forced: acting again changes nothing that was done
    process_classified(message, classified(), now=WHEN, force=True)
    assert Event.objects.filter(kind="unenrolled").count() == 1
    assert Event.objects.filter(kind="message_received").count() == 1
    message.refresh_from_db()
    assert message.decision == "no_enrollment", "the enrollment it ended has ended"
    (earlier,) = message.decision_evidence["history"]
    assert (earlier["why"], earlier["decision"]) == ("reprocessed", "unenrolled")


def test_a_forced_soft_bounce_does_not_count_itself_twice() -> None:
    user, mailbox = rep()
    enrolled(user, make_contact("jane@acme.test"))
    message = stored(mailbox, sender="MAILER-DAEMON@mx.acme.test", subject="Full")
    soft = classified(Label.BOUNCE_SOFT, failed=[("jane@acme.test", "4.2.2")])
    for _ in range(4):
        done = process_classified(message, soft, now=WHEN, force=True)
        assert done.decision == "bounce_counted"
    assert not Suppression.objects.exists()


def test_reprocess_runs_pending_messages_and_skips_done_ones_unless_forced() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    done = process_classified(stored(mailbox, **reply_to(enrollment)), classified(), now=WHEN)
    broken, _ = store_message(mailbox=mailbox, folder="INBOX", uidvalidity=1, uid=99, raw=b"")
    report = reprocess([done, broken])
    assert report.as_dict == {"processed": 0, "failed": 1, "skipped": 1}
    broken.refresh_from_db()
    assert broken.status == InboundStatus.FAILED


# --- through the real classifier --------------------------------------------------------


def test_a_real_reply_unenrolls_replied_end_to_end() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    message = stored(
        mailbox,
        body="Hi Alice,\n\nYes, Tuesday at 10 works for me.\n\nJane\n",
        **reply_to(enrollment),
    )
    done = process_message(message)
    assert (done.status, done.label, done.decision) == ("processed", "human_reply", "unenrolled")
    assert fresh(enrollment).reason == "replied"
    assert fresh(enrollment).evidence["classification"]["classifier_version"]


def test_a_real_auto_reply_leaves_the_enrollment_running() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    message = stored(
        mailbox,
        subject="Automatic reply: Quick question",
        body="I am out of the office with no access to email. I will reply when I am back.\n",
        headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
        **reply_to(enrollment),
    )
    done = process_message(message)
    assert (done.status, done.label, done.decision) == ("processed", "auto_reply", "timeline_only")
    assert fresh(enrollment).status == "active"


def dsn_with_8bit_diagnostic(enrollment: Enrollment) -> bytes:
    """A hard bounce whose Diagnostic-Code carries bytes that are not UTF-8, as foreign
    MTAs send (found by fuzzing)."""
    return (
        b"From: MAILER-DAEMON@mx.example.test\r\nTo: alice@example.test\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <dsn-8bit@mx.example.test>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.test\r\n"
        b"\r\nFinal-Recipient: rfc822; " + enrollment.email.encode() + b"\r\nAction: failed\r\n"
        b"Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 unknown user \xd0\xd0\xff\x00\r\n"
        b"--b--\r\n"
    )


def test_a_bounce_whose_diagnostic_is_not_utf8_still_unenrolls_and_suppresses() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("maria.rossi@globex.test"))
    done = process_message(stored(mailbox, raw=dsn_with_8bit_diagnostic(enrollment)))
    assert (done.status, done.label, done.decision) == ("processed", "bounce_hard", "unenrolled")
    assert fresh(enrollment).reason == "bounced"
    assert Suppression.objects.filter(email="maria.rossi@globex.test").exists()
    (recipient,) = done.classification["failed_recipients"]
    assert recipient["diagnostic"] == "smtp; 550 5.1.1 unknown user \ufffd\ufffd\ufffd"


def test_a_nul_in_an_out_of_office_does_not_stop_it_from_pausing() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"), pause_on_out_of_office=True)
    message = stored(
        mailbox,
        subject="Automatic reply: Quick question",
        body="I am out of the office until 11 December 2026\x00 with no access to email.\n",
        headers={"Auto-Submitted": "auto-replied"},
        **reply_to(enrollment),
    )
    done = process_message(message, now=WHEN)
    assert (done.status, done.label) == ("processed", "auto_reply")
    assert fresh(enrollment).status == "paused"
    assert "\x00" not in json.dumps(done.classification)


def test_a_sender_name_in_broken_base64_is_stored_and_processed() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    message = stored(
        mailbox,
        sender="=?ISO-2022-JP?B?GyRCOzNFRBsoQg<=?= <jane@acme.test>",
        body="Tuesday works for me.\n",
        **reply_to(enrollment),
    )
    assert message.from_address == "jane@acme.test"
    assert process_message(message).decision == "unenrolled"


def test_an_encoded_word_with_a_non_ascii_charset_name_does_not_stop_the_store() -> None:
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact("jane@acme.test"))
    message = stored(
        mailbox,
        headers={"References": "=?utf\ufffd8?q?=C3=A9?= " + our_id(enrollment, 1)},
        body="Tuesday works for me.\n",
        message_id="<charset.1@mail.acme.test>",
    )
    assert (message.message_id, message.from_address) == (
        "<charset.1@mail.acme.test>",
        "jane@acme.test",
    )
    assert process_message(message).decision == "unenrolled"
