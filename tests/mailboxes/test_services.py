import pytest

from cadency.ledger.models import Event
from cadency.mailboxes.models import Mailbox, Security
from cadency.mailboxes.services import (
    MailboxCheckFailed,
    MailboxError,
    add_mailbox,
    update_mailbox_limits,
)
from tests.factories import make_mailbox, make_user

pytestmark = pytest.mark.django_db


def test_a_mailbox_whose_login_fails_is_not_saved_when_checked_first() -> None:
    rep = make_user("ria")
    with pytest.raises(MailboxCheckFailed) as failed:
        add_mailbox(
            user=rep,
            email="ria@example.test",
            secret="wrong",
            smtp_host="127.0.0.1",
            smtp_port=9,  # discard port: nothing listens
            smtp_security=Security.NONE,
            imap_host="127.0.0.1",
            imap_port=9,
            imap_security=Security.NONE,
            check=True,
        )
    assert failed.value.check.smtp_ok is False
    assert "SMTP 127.0.0.1:9" in str(failed.value)
    assert not Mailbox.objects.exists()
    assert not Event.objects.exists()


def test_changing_limits_records_each_change_in_one_ledger_sentence() -> None:
    rep = make_user("ria")
    mailbox = make_mailbox(rep)
    changes = update_mailbox_limits(
        mailbox=mailbox, actor=rep, daily_limit=120, per_minute_limit=100, time_zone="Asia/Tokyo"
    )
    assert changes == ["Daily send limit 500 → 120", "Time zone UTC → Asia/Tokyo"]
    mailbox.refresh_from_db()
    assert (mailbox.daily_limit, mailbox.time_zone) == (120, "Asia/Tokyo")
    event = Event.objects.get(kind="mailbox_limits_changed")
    assert "Daily send limit 500 → 120; Time zone UTC → Asia/Tokyo" in event.sentence


def test_unchanged_limits_write_nothing() -> None:
    rep = make_user("ria")
    mailbox = make_mailbox(rep)
    assert (
        update_mailbox_limits(
            mailbox=mailbox, actor=rep, daily_limit=500, per_minute_limit=100, time_zone="UTC"
        )
        == []
    )
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("daily", "per_minute", "zone", "message"),
    [
        (0, 10, "UTC", "at least 1"),
        (10, 0, "UTC", "at least 1"),
        (10, 10, "Mars/Olympus", "unknown time zone"),
    ],
)
def test_bad_limits_are_refused_and_change_nothing(
    daily: int, per_minute: int, zone: str, message: str
) -> None:
    rep = make_user("ria")
    mailbox = make_mailbox(rep)
    with pytest.raises(MailboxError, match=message):
        update_mailbox_limits(
            mailbox=mailbox,
            actor=rep,
            daily_limit=daily,
            per_minute_limit=per_minute,
            time_zone=zone,
        )
    mailbox.refresh_from_db()
    assert (mailbox.daily_limit, mailbox.time_zone) == (500, "UTC")
