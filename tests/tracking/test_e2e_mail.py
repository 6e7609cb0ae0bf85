"""End to end through real Postfix and Dovecot: a tracked email reaches the contact's
mailbox, its link and open image are requested as the contact's mail client would, and
Performance counts them; the scanner that fetched the link at delivery is not counted."""

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from cadency.ledger.models import Event
from cadency.outbound.models import SentMessage
from cadency.outbound.smtp_send import pool
from cadency.sequences.reports import performance
from cadency.sequences.services.enrollment import enroll
from tests.factories import ALWAYS_OPEN, make_contact, make_mailbox, make_sequence, make_user
from tests.mailstack import MailStack
from tests.sequences.pages import client_for
from tests.tracking.support import CHROME

pytestmark = [pytest.mark.mail, pytest.mark.django_db(transaction=True)]

PRICING = "https://www.example.com/pricing?plan=team&seats=5"
PROOFPOINT = "Mozilla/5.0 (compatible; Proofpoint URL Defense)"


@pytest.fixture(autouse=True)
def fresh_smtp_connections() -> None:
    pool.close_all()


def raw_in_inbox(mailstack: MailStack, user: str) -> bytes:
    client = mailstack.imap(user)
    try:
        client.select("INBOX", readonly=True)
        _, data = client.search(None, "ALL")
        [number] = data[0].split()
        _, parts = client.fetch(number, "(BODY.PEEK[])")
        raw = parts[0]
        assert isinstance(raw, tuple)
        return raw[1]
    finally:
        client.logout()


def test_a_tracked_email_in_the_contacts_mailbox_counts_a_persons_click_and_open(
    mailstack: MailStack,
) -> None:
    rep = make_user("alice", first_name="Alice", last_name="Martin")
    make_mailbox(rep, "rep@example.test")
    jane = make_contact("jane@acme.test", first_name="Jane", last_name="Doe")
    sequence = make_sequence(
        rep,
        steps=[
            {
                "type": "automated_email",
                "subject": "Pricing for {{ contact.first_name }}",
                "body": f"Hi {{{{ contact.first_name }}}},\n\nOur pricing: {PRICING}.\n",
            }
        ],
        **{**ALWAYS_OPEN, "track_clicks": True, "track_opens": True},
    )
    enrollment = enroll(contact=jane, sequence=sequence, user=rep)
    [received] = mailstack.wait_for_messages("jane@acme.test", 1)

    stored = bytes(SentMessage.objects.get(enrollment=enrollment).raw)
    _, _, stored_body = stored.partition(b"\r\n\r\n")
    assert stored_body in raw_in_inbox(mailstack, "jane@acme.test"), "the bytes sent are kept"

    text, html = received.get_body(("plain",)), received.get_body(("html",))
    assert text is not None and html is not None
    [link] = re.findall(r"http://testserver(/t/c/[^\s/]+/)", text.get_content())
    [image] = re.findall(r'src="http://testserver(/t/o/[^"]+\.gif)"', html.get_content())
    assert PRICING not in text.get_content()

    # The recipient's gateway checks the link as the message arrives.
    scanned = Client(headers={"User-Agent": PROOFPOINT}).get(link)
    assert scanned.status_code == 302

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=3), tick=True):
        jane_browser = Client(headers={"User-Agent": CHROME})
        assert jane_browser.get(image)["Content-Type"] == "image/gif"
        response = jane_browser.get(link)
    assert response.status_code == 302 and response["Location"] == PRICING

    [step] = performance(sequence).steps
    assert (step.sent, step.opened, step.clicked) == (1, 1, 1)
    page = client_for(rep).get(f"/sequences/{sequence.pk}/performance/")
    bars = {bar.key: bar.count for bar in page.context["charts"][0].bars}
    assert (bars["opened"], bars["clicked"]) == (1, 1)
    assert Event.objects.filter(kind="clicked_bot", enrollment=enrollment).count() == 1
