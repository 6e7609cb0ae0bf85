"""The pre-send read keeps its IMAP login between batches, on the real Dovecot:
a kept connection reads mail delivered after it was opened, and a dropped one or a
changed password never makes the read fail or succeed wrongly."""

import imaplib
import time

import pytest

from cadency.inbound.imap_pool import presend_connections
from cadency.inbound.models import InboundMessage
from cadency.inbound.watcher import sync_inbox_now
from cadency.mailboxes.models import Mailbox
from tests.factories import make_mailbox, make_user
from tests.inbound.support import rfc5322
from tests.mailstack import MailStack

pytestmark = [pytest.mark.mail, pytest.mark.django_db(transaction=True)]

REP = "rep@example.test"


@pytest.fixture
def mailbox(mailstack: MailStack) -> Mailbox:
    return make_mailbox(make_user("alice"), REP)


def deliver(stack: MailStack, subject: str) -> None:
    client = stack.imap(REP)
    try:
        raw = rfc5322(sender="Jane Doe <jane@acme.test>", to=REP, subject=subject)
        status, data = client.append("INBOX", None, imaplib.Time2Internaldate(time.time()), raw)
        assert status == "OK", data
    finally:
        client.logout()


def kept_client(mailbox: Mailbox) -> imaplib.IMAP4:
    kept = presend_connections.take(mailbox)
    presend_connections.give_back(mailbox, kept)
    return kept.client


def subjects() -> set[str]:
    return set(InboundMessage.objects.values_list("subject", flat=True))


def test_a_kept_connection_reads_mail_delivered_after_it_was_opened(
    mailstack: MailStack, mailbox: Mailbox
) -> None:
    sync_inbox_now(mailbox)
    first = kept_client(mailbox)
    deliver(mailstack, "Re: Quick question")
    sync_inbox_now(mailbox)
    assert kept_client(mailbox) is first, "the login was kept"
    assert subjects() == {"Re: Quick question"}


def test_a_connection_the_server_dropped_is_replaced_without_failing_the_read(
    mailstack: MailStack, mailbox: Mailbox
) -> None:
    sync_inbox_now(mailbox)
    dropped = kept_client(mailbox)
    dropped.shutdown()
    deliver(mailstack, "Re: After the drop")
    sync_inbox_now(mailbox)
    assert kept_client(mailbox) is not dropped
    assert subjects() == {"Re: After the drop"}


def test_a_changed_password_is_not_covered_by_the_kept_login(
    mailstack: MailStack, mailbox: Mailbox
) -> None:
    sync_inbox_now(mailbox)
    mailbox.set_secret("not-the-password")
    mailbox.save(update_fields=["secret_encrypted"])
    with pytest.raises(imaplib.IMAP4.error):
        sync_inbox_now(Mailbox.objects.get(pk=mailbox.pk))


def test_an_old_connection_is_logged_out_and_replaced(mailbox: Mailbox) -> None:
    sync_inbox_now(mailbox)
    old = kept_client(mailbox)
    presend_connections.max_age_seconds = 0
    try:
        sync_inbox_now(mailbox)
    finally:
        presend_connections.max_age_seconds = 60
    assert kept_client(mailbox) is not old
