"""People in Cc, forwarded threads, and machine mail in a thread: written messages
run through the real classifier, identify, decide and act (SPEC §8 "Identity
resolution": forwarded threads, a different address replying, people in Cc)."""

from email.message import EmailMessage

import pytest

from cadency.contacts.models import ContactEmail
from cadency.inbound.identity import (
    attached_message_ids,
    header_fields,
    recipients,
    subject_prefixes,
)
from cadency.inbound.models import InboundMessage
from cadency.inbound.pipeline import process_message, store_message
from cadency.mailboxes.models import Mailbox
from cadency.sequences.models import Enrollment
from tests.factories import make_contact
from tests.inbound.support import DATE, enrolled, our_id, rep, rfc5322, stored

pytestmark = pytest.mark.django_db

FORWARDED_INLINE = """John, can you take this one?

Jane

---------- Forwarded message ---------
From: Alice Example <alice@example.test>
Date: Sat, Nov 21, 2026 at 9:00 AM
Subject: Quick question
To: Jane Doe <jane@acme.test>


Hi Jane,

Would a short call next week make sense?

Alice
"""


def fresh(enrollment: Enrollment) -> Enrollment:
    enrollment.refresh_from_db()
    return enrollment


def jane_enrolled() -> tuple[Mailbox, Enrollment]:
    user, mailbox = rep()
    jane = make_contact("jane@acme.test", first_name="Jane", last_name="Doe")
    return mailbox, enrolled(user, jane)


def our_email(enrollment: Enrollment) -> EmailMessage:
    """The sequence email as the contact's client received it."""
    ours = EmailMessage()
    ours["From"] = "Alice Example <alice@example.test>"
    ours["To"] = "Jane Doe <jane@acme.test>"
    ours["Subject"] = "Quick question"
    ours["Date"] = "Sat, 21 Nov 2026 09:00:00 +0000"
    ours["Message-ID"] = our_id(enrollment, 1)
    ours.set_content("Hi Jane,\n\nWould a short call next week make sense?\n\nAlice\n")
    return ours


def forward_as_attachment(
    attached: EmailMessage, *, sender: str = "Jane Doe <jane@acme.test>"
) -> bytes:
    forward = EmailMessage()
    forward["From"] = sender
    forward["To"] = "John Roe <john@acme.test>"
    forward["Cc"] = "Alice Example <alice@example.test>"
    forward["Subject"] = "Fwd: Quick question"
    forward["Date"] = DATE
    forward["Message-ID"] = "<forward.1@mail.acme.test>"
    forward.set_content("John, can you take this one?\n\nJane\n")
    forward.add_attachment(attached)
    return forward.as_bytes()


def run(mailbox: Mailbox, raw: bytes) -> InboundMessage:
    return process_message(stored(mailbox, raw))


# --- someone else answers with the contact in copy ----------------------------------------


def test_a_colleague_replying_with_the_contact_in_cc_ends_it_and_the_evidence_says_so() -> None:
    mailbox, enrollment = jane_enrolled()
    answer = rfc5322(
        sender="John Roe <john@acme.test>",
        headers={"Cc": "Jane Doe <jane@acme.test>, ops@acme.test"},
        body="Hi Alice, Jane asked me to answer: we are interested. John\n",
        in_reply_to=our_id(enrollment, 1),
    )
    done = run(mailbox, answer)
    assert (done.label, done.decision) == ("human_reply", "unenrolled")
    enrollment = fresh(enrollment)
    assert enrollment.reason == "replied_other_address"
    assert enrollment.evidence["contact_copied"] == "cc"
    assert enrollment.evidence["match"] == "unknown_sender"
    assert enrollment.evidence["from"] == "john@acme.test"
    assert "sent to Jane Doe with Jane Doe in Cc" in enrollment.reason_text


@pytest.mark.parametrize(
    ("to", "cc", "copied"),
    [
        ("alice@example.test", "J.Doe@Acme-Group.test", "cc"),  # an alias, written differently
        ("alice@example.test", "JANE+crm@acme.test", "cc"),  # the enrolled address, another form
        ("jane@acme.test, alice@example.test", "", "to"),
        ("alice@example.test", "jim@acme.test", ""),  # someone else
    ],
)
def test_the_contact_is_found_among_the_recipients_in_any_form(
    to: str, cc: str, copied: str
) -> None:
    mailbox, enrollment = jane_enrolled()
    ContactEmail.objects.create(contact=enrollment.contact, email="j.doe@acme-group.test")
    answer = rfc5322(
        sender="ana@globex.test",
        to=to,
        headers={"Cc": cc} if cc else {},
        in_reply_to=our_id(enrollment, 1),
    )
    run(mailbox, answer)
    assert fresh(enrollment).reason == "replied_other_address"
    assert fresh(enrollment).evidence.get("contact_copied", "") == copied


def test_a_colleague_replying_without_the_contact_in_copy_has_no_copy_evidence() -> None:
    mailbox, enrollment = jane_enrolled()
    answer = rfc5322(sender="john@acme.test", in_reply_to=our_id(enrollment, 1))
    run(mailbox, answer)
    assert fresh(enrollment).reason == "replied_other_address"
    assert "contact_copied" not in fresh(enrollment).evidence


def test_an_auto_reply_in_the_thread_with_the_contact_in_cc_never_counts() -> None:
    mailbox, enrollment = jane_enrolled()
    auto = rfc5322(
        sender="John Roe <john@acme.test>",
        subject="Automatic reply: Quick question",
        headers={"Cc": "jane@acme.test", "Auto-Submitted": "auto-replied"},
        body="I am out of the office until Monday with limited access to email.\n",
        in_reply_to=our_id(enrollment, 1),
    )
    done = run(mailbox, auto)
    assert (done.label, done.decision) == ("auto_reply", "timeline_only")
    assert fresh(enrollment).status == "active"


# --- the contact forwards our email -----------------------------------------------------


def test_the_contact_forwarding_our_email_inline_counts_as_replying() -> None:
    mailbox, enrollment = jane_enrolled()
    forward = rfc5322(
        subject="Fwd: Quick question",
        to="John Roe <john@acme.test>",
        headers={"Cc": "alice@example.test"},
        body=FORWARDED_INLINE,
        message_id="<forward.2@mail.acme.test>",
    )  # no In-Reply-To, no References: most clients set none on a forward
    done = run(mailbox, forward)
    assert (done.label, done.decision) == ("human_reply", "unenrolled")
    enrollment = fresh(enrollment)
    assert enrollment.reason == "replied"
    assert enrollment.evidence["thread"] == "forwarded_subject"
    assert enrollment.evidence["match"] == "enrolled_address"


def test_a_forward_that_keeps_the_references_is_in_the_thread() -> None:
    mailbox, enrollment = jane_enrolled()
    forward = rfc5322(
        subject="Fwd: Quick question",
        body=FORWARDED_INLINE,
        references=our_id(enrollment, 1),  # Gmail keeps the thread's References
    )
    run(mailbox, forward)
    assert (fresh(enrollment).reason, fresh(enrollment).evidence["thread"]) == (
        "replied",
        "references",
    )


def test_the_contact_forwarding_our_email_as_an_attachment_counts_as_replying() -> None:
    mailbox, enrollment = jane_enrolled()
    done = run(mailbox, forward_as_attachment(our_email(enrollment)))
    assert (done.label, done.status) == ("human_reply", "processed")
    assert done.decision != "ignored_own", "our message inside is not a copy of ours"
    enrollment = fresh(enrollment)
    assert (enrollment.reason, enrollment.evidence["thread"]) == ("replied", "forwarded")
    assert done.decision_evidence["match"]["thread"]["how"] == "forwarded"


def test_a_colleague_forwarding_our_email_as_an_attachment_is_replied_other_address() -> None:
    mailbox, enrollment = jane_enrolled()
    raw = forward_as_attachment(our_email(enrollment), sender="Ana Lee <ana@globex.test>")
    run(mailbox, raw)
    enrollment = fresh(enrollment)
    assert enrollment.reason == "replied_other_address"
    assert enrollment.evidence["thread"] == "forwarded"


def test_a_forwarded_reply_to_our_email_is_in_the_thread_too() -> None:
    mailbox, enrollment = jane_enrolled()
    reply = EmailMessage()
    reply["From"] = "Jane Doe <jane@acme.test>"
    reply["To"] = "Alice Example <alice@example.test>"
    reply["Subject"] = "Re: Quick question"
    reply["Message-ID"] = "<reply.1@mail.acme.test>"
    reply["In-Reply-To"] = our_id(enrollment, 1)
    reply.set_content("Let me check with John.\n")
    assert attached_message_ids(forward_as_attachment(reply)) == [
        "<reply.1@mail.acme.test>",
        our_id(enrollment, 1),
    ]
    run(mailbox, forward_as_attachment(reply))
    assert fresh(enrollment).evidence["thread"] == "forwarded"


def test_the_contact_forwarding_something_else_is_emailed() -> None:
    mailbox, enrollment = jane_enrolled()
    forward = rfc5322(subject="Fwd: Our travel policy", body="FYI\n\nJane\n")
    run(mailbox, forward)
    assert (fresh(enrollment).reason, fresh(enrollment).evidence["thread"]) == ("emailed", None)


def test_a_bounce_carrying_our_message_is_never_taken_for_a_forward() -> None:
    mailbox, enrollment = jane_enrolled()
    report = EmailMessage()
    report["From"] = "Mail Delivery System <MAILER-DAEMON@mx.acme.test>"
    report["To"] = "alice@example.test"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Date"] = DATE
    report["Message-ID"] = "<dsn.1@mx.acme.test>"
    report.set_content(
        "I'm sorry to have to inform you that your message could not be delivered.\n"
        "<jane@acme.test>: host mx.acme.test said: 550 5.1.1 User unknown\n"
    )
    report.add_attachment(our_email(enrollment))
    message, _ = store_message(
        mailbox=mailbox, folder="INBOX", uidvalidity=1, uid=9001, raw=report.as_bytes()
    )
    done = process_message(message)
    assert done.label == "bounce_hard"
    assert fresh(enrollment).reason == "bounced"
    assert done.decision_evidence["match"].get("thread") is None


# --- the pure helpers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "bare", "kinds"),
    [
        ("Fwd: Quick question", "Quick question", {"forward"}),
        ("FW: RE: Quick question", "Quick question", {"forward", "reply"}),
        ("WG: Quick question", "Quick question", {"forward"}),
        ("TR : Quick question", "Quick question", {"forward"}),
        ("RV: Quick question", "Quick question", {"forward"}),
        ("转发\uff1aQuick question", "Quick question", {"forward"}),  # full-width colon
        ("Re: Quick question", "Quick question", {"reply"}),
        ("Forward planning", "Forward planning", set()),
    ],
)
def test_forward_and_reply_prefixes_are_told_apart(
    subject: str, bare: str, kinds: set[str]
) -> None:
    assert subject_prefixes(subject) == (bare, frozenset(kinds))


def test_recipients_reads_to_and_cc_addresses() -> None:
    raw = rfc5322(
        to='"Doe, Jane" <Jane@Acme.test>, alice@example.test',
        headers={"Cc": "=?utf-8?q?J=C3=BCrgen?= <jm@acme.test>, undisclosed-recipients:;"},
    )
    assert recipients(header_fields(raw)) == {
        "to": ["jane@acme.test", "alice@example.test"],
        "cc": ["jm@acme.test"],
    }


def test_a_message_without_attachments_has_no_attached_ids() -> None:
    assert attached_message_ids(rfc5322(references="<a@x.test>")) == []
