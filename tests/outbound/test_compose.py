"""The email a step sends: headers, alternatives, threading, unsubscribe."""

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from cadency.outbound.compose import OutgoingEmail, Thread, message_bytes, new_message_id
from cadency.outbound.unsubscribe_tokens import InvalidToken, make_token, read_token
from tests.factories import make_mailbox, make_user

pytestmark = pytest.mark.django_db


def composed(
    thread: Thread | None = None, body: str = "Hi Jane,\n\nA <b>call</b>?"
) -> EmailMessage:
    message = message_from_bytes(composed_raw(thread, body), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def composed_raw(thread: Thread | None = None, body: str = "Hi Jane,\n\nA <b>call</b>?") -> bytes:
    mailbox = make_mailbox(make_user("alice"), "alice@example.test", display_name="Alice Martin")
    raw = message_bytes(
        OutgoingEmail(
            mailbox=mailbox,
            sender_name="Alice Martin",
            to_name="Jane Doe",
            to_email="jane@acme.test",
            subject="Quick question",
            body=body,
            message_id="<fixed@example.test>",
            enrollment_id=42,
            thread=thread,
        )
    )
    return raw


def test_it_has_sender_recipient_message_id_and_one_click_unsubscribe() -> None:
    message = composed()
    assert message["From"] == "Alice Martin <alice@example.test>"
    assert message["To"] == "Jane Doe <jane@acme.test>"
    assert message["Message-ID"] == "<fixed@example.test>"
    assert message["Subject"] == "Quick question"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = message["List-Unsubscribe"].split(", ")
    assert https.startswith("<http://testserver/u/")
    assert mailto == "<mailto:alice@example.test?subject=unsubscribe>"
    assert "In-Reply-To" not in message


def test_list_unsubscribe_is_sent_as_plain_urls_not_encoded_words() -> None:
    raw = composed_raw()
    line = next(x for x in raw.split(b"\n") if x.startswith(b"List-Unsubscribe:"))
    assert line.startswith(b"List-Unsubscribe: <http://testserver/u/")
    assert b"=?utf-8?" not in raw


def test_the_html_part_escapes_what_the_rep_typed() -> None:
    html = composed().get_body(("html",))
    assert html is not None
    assert "A &lt;b&gt;call&lt;/b&gt;?" in html.get_content()


def test_a_threaded_follow_up_answers_the_earlier_messages() -> None:
    message = composed(Thread(subject="Quick question", message_ids=["<a@x.test>", "<b@x.test>"]))
    assert message["Subject"] == "Re: Quick question"
    assert message["In-Reply-To"] == "<b@x.test>"
    assert message["References"] == "<a@x.test> <b@x.test>"


def test_message_ids_are_unique_and_on_the_mailboxs_domain() -> None:
    mailbox = make_mailbox(make_user("bob"), "bob@example.test")
    ids = {new_message_id(mailbox) for _ in range(100)}
    assert len(ids) == 100
    assert all(i.endswith("@example.test>") for i in ids)


def test_an_unsubscribe_token_round_trips_and_rejects_tampering() -> None:
    token = make_token(enrollment_id=7, email="jane@acme.test")
    claim = read_token(token)
    assert (claim.enrollment_id, claim.email) == (7, "jane@acme.test")
    for forged in (token[:-1] + ("x" if token[-1] != "x" else "y"), "abc", token + "0"):
        with pytest.raises(InvalidToken):
            read_token(forged)


def test_names_subjects_and_bodies_in_any_language_survive_the_trip() -> None:
    mailbox = make_mailbox(make_user("zoe"), "zoe@example.test")
    raw = message_bytes(
        OutgoingEmail(
            mailbox=mailbox,
            sender_name="Zoë Müller-Łukasz",
            to_name="Doe, Jane «JD»",
            to_email="jane@acme.test",
            subject="Café? 会議の件 — Re-think",
            body="Grüße aus Köln,\n\n" + "ça va très bien " * 100,
            message_id="<intl@example.test>",
            enrollment_id=1,
        )
    )
    assert raw.isascii(), "7-bit on the wire: encoded-words and quoted-printable"
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert message["From"].addresses[0].display_name == "Zoë Müller-Łukasz"
    assert message["To"].addresses[0].display_name == "Doe, Jane «JD»"
    assert message["To"].addresses[0].addr_spec == "jane@acme.test"
    assert message["Subject"] == "Café? 会議の件 — Re-think"
    text = message.get_body(("plain",))
    assert text is not None
    assert text.get_content().replace("\r\n", "\n").startswith("Grüße aus Köln,\n\nça va très bien")
