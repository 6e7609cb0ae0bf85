"""The demo buttons: refused unless demo mode is on, clear errors, realistic messages."""

from typing import Any
from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.template.loader import render_to_string
from django.test import Client, RequestFactory

from cadency.demo.as_contact import out_of_office_message, reply_message
from cadency.demo.seeding import DemoData, enroll_demo_contacts
from cadency.inbound.classifier import classify_message
from cadency.mailboxes.models import Mailbox
from cadency.outbound.models import SentMessage
from cadency.sequences.models import Enrollment
from tests.demo.conftest import pretend_sent
from tests.factories import make_contact, make_user

pytestmark = pytest.mark.django_db

SMTP = "cadency.demo.as_contact.smtplib.SMTP"


@pytest.fixture
def jane_enrollment(demo: DemoData) -> Enrollment:
    enroll_demo_contacts(demo)
    return Enrollment.objects.get(email="jane@acme.test")


@pytest.fixture
def signed_in(demo: DemoData) -> Client:
    client = Client()
    client.force_login(demo.rep)
    return client


def reply_url(contact_id: int) -> str:
    return f"/demo/contacts/{contact_id}/reply/"


def ooo_url(contact_id: int) -> str:
    return f"/demo/contacts/{contact_id}/out-of-office/"


def shown_messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_demo_buttons_do_not_exist_when_demo_mode_is_off(
    signed_in: Client, jane_enrollment: Enrollment
) -> None:
    pretend_sent(jane_enrollment)
    with mock.patch(SMTP) as smtp:
        for url in (reply_url(jane_enrollment.contact_id), ooo_url(jane_enrollment.contact_id)):
            assert signed_in.post(url).status_code == 404
    smtp.assert_not_called()


def test_the_demo_buttons_need_a_signed_in_user(
    demo_mode: None, jane_enrollment: Enrollment
) -> None:
    pretend_sent(jane_enrollment)
    with mock.patch(SMTP) as smtp:
        response = Client().post(reply_url(jane_enrollment.contact_id))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    smtp.assert_not_called()


def test_the_demo_buttons_only_answer_post(
    demo_mode: None, signed_in: Client, jane_enrollment: Enrollment
) -> None:
    assert signed_in.get(reply_url(jane_enrollment.contact_id)).status_code == 405
    assert signed_in.get(ooo_url(jane_enrollment.contact_id)).status_code == 405


def test_an_unknown_contact_is_not_found(demo_mode: None, signed_in: Client) -> None:
    assert signed_in.post(reply_url(999_999)).status_code == 404


def test_a_contact_cadency_has_not_emailed_yet_gets_a_clear_error_and_nothing_is_sent(
    demo_mode: None, signed_in: Client, jane_enrollment: Enrollment
) -> None:
    with mock.patch(SMTP) as smtp:
        response = signed_in.post(reply_url(jane_enrollment.contact_id))

    assert response.status_code == 302
    assert response["Location"] == f"/contacts/{jane_enrollment.contact_id}/"
    [message] = shown_messages(response)
    assert "Nothing was sent" in message
    assert "has not emailed jane@acme.test yet" in message
    smtp.assert_not_called()


def test_demo_mail_never_goes_to_a_mail_server_off_this_machine(
    demo_mode: None, signed_in: Client, jane_enrollment: Enrollment
) -> None:
    pretend_sent(jane_enrollment)
    Mailbox.objects.filter(pk=jane_enrollment.mailbox_id).update(smtp_host="smtp.example.com")

    with mock.patch(SMTP) as smtp:
        response = signed_in.post(reply_url(jane_enrollment.contact_id))

    [message] = shown_messages(response)
    assert "only goes to a mail server on this machine" in message
    smtp.assert_not_called()


def test_a_refusing_mail_server_is_reported(
    demo_mode: None, signed_in: Client, jane_enrollment: Enrollment
) -> None:
    pretend_sent(jane_enrollment)
    with mock.patch(SMTP, side_effect=ConnectionRefusedError(111, "Connection refused")):
        response = signed_in.post(reply_url(jane_enrollment.contact_id))

    [message] = shown_messages(response)
    assert "Nothing was sent: the mail server 127.0.0.1:" in message
    assert "Connection refused" in message


def test_the_button_returns_to_the_page_it_was_on_but_never_off_site(
    demo_mode: None, signed_in: Client, jane_enrollment: Enrollment
) -> None:
    contact_id = jane_enrollment.contact_id
    same_site = signed_in.post(reply_url(contact_id), {"next": "/contacts/?q=jane"})
    off_site = signed_in.post(reply_url(contact_id), {"next": "https://evil.example.com/"})

    assert same_site["Location"] == "/contacts/?q=jane"
    assert off_site["Location"] == f"/contacts/{contact_id}/"


def test_a_reply_answers_the_latest_sequence_email_from_the_address_it_went_to(
    jane_enrollment: Enrollment,
) -> None:
    first = pretend_sent(jane_enrollment)

    reply = reply_message(jane_enrollment.contact, first)

    assert reply["From"] == "Jane Doe <jane@acme.test>"
    assert reply["To"] == "Alice Martin <rep@example.test>"
    assert reply["Subject"] == "Re: Quick question about Acme"
    assert reply["In-Reply-To"] == first.message_id
    assert reply["References"] == first.message_id
    assert reply["Auto-Submitted"] is None
    body = reply.get_content()
    assert body.startswith("Hi Alice,")
    assert "> Would a 15-minute call next week help?" in body
    assert classify_message(reply.as_bytes()).label == "human_reply"


def test_an_out_of_office_has_the_headers_of_an_automatic_reply(
    jane_enrollment: Enrollment,
) -> None:
    first = pretend_sent(jane_enrollment)

    auto = out_of_office_message(jane_enrollment.contact, first)

    assert auto["Auto-Submitted"] == "auto-replied"
    assert auto["X-Auto-Response-Suppress"] == "All"
    assert auto["Subject"] == "Automatic reply: Quick question about Acme"
    assert auto["In-Reply-To"] == first.message_id
    assert "out of the office until" in auto.get_content()
    assert classify_message(auto.as_bytes()).label == "auto_reply"


def test_the_sent_message_is_handed_to_smtp_with_the_right_envelope(
    demo_mode: None, signed_in: Client, jane_enrollment: Enrollment
) -> None:
    pretend_sent(jane_enrollment)
    with mock.patch(SMTP) as smtp:
        reply = signed_in.post(reply_url(jane_enrollment.contact_id))
        ooo = signed_in.post(ooo_url(jane_enrollment.contact_id))

    client = smtp.return_value
    sends = client.send_message.call_args_list
    assert [call.kwargs["from_addr"] for call in sends] == ["jane@acme.test", ""]
    assert [call.kwargs["to_addrs"] for call in sends] == [["rep@example.test"]] * 2
    assert client.starttls.call_count == 2
    assert "ends the enrollment" in shown_messages(reply)[0]
    assert "leaves the enrollment running" in shown_messages(ooo)[-1]
    assert SentMessage.objects.count() == 1, "the demo records nothing itself"


def test_the_contact_record_snippet_offers_both_buttons(jane_enrollment: Enrollment) -> None:
    request = RequestFactory().get(f"/contacts/{jane_enrollment.contact_id}/")
    request.user = make_user("viewer")

    html = render_to_string(
        "demo/contact_actions.html", {"contact": jane_enrollment.contact}, request=request
    )

    assert "Reply as this contact" in html
    assert "Send an out-of-office as this contact" in html
    assert f'action="{reply_url(jane_enrollment.contact_id)}"' in html
    assert f'action="{ooo_url(jane_enrollment.contact_id)}"' in html
    assert "ends the enrollment within a second" in html


def test_the_snippet_escapes_the_contacts_name(demo: DemoData) -> None:
    contact = make_contact("eve@acme.test", first_name="<script>x</script>", last_name="Doe")
    request = RequestFactory().get(f"/contacts/{contact.pk}/")
    request.user = demo.rep

    html = render_to_string("demo/contact_actions.html", {"contact": contact}, request=request)

    assert "<script>x</script>" not in html
    assert "&lt;script&gt;" in html
