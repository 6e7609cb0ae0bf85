"""The bytes a send writes directly are the very bytes the email package writes."""

import datetime as dt

import pytest

from cadency.mailboxes.models import Mailbox
from cadency.outbound import compose
from cadency.outbound.compose import (
    WIRE_POLICY,
    OutgoingEmail,
    Thread,
    build_message,
    message_bytes,
)

SAMPLES = {
    "plain": {},
    "threaded": {"thread": Thread(subject="Quick question", message_ids=["<a@x.test>"])},
    "tracked html": {"html_body": '<p>See <a href="https://x.test/?a=1&amp;b=2">this</a></p>'},
    "long lines, dots, trailing spaces and =": {
        "body": "Hi Jane,  \n.\n..and " + "word " * 60 + "\n= 3 =\r\nBye\t\n",
    },
    "quoted display name": {"to_name": 'Doe, Jane "JD"'},
    "non-ASCII subject and names (encoded words)": {
        "subject": "Café? 会議の件",
        "to_name": "Zoë Müller",
        "body": "Grüße,\n\nça va",
    },
}


@pytest.mark.parametrize("changes", SAMPLES.values(), ids=SAMPLES.keys())
def test_message_bytes_equal_the_generators_output(
    changes: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("random.randrange", lambda _: 1234567)
    monkeypatch.setattr(
        "django.utils.timezone.now", lambda: dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    )
    monkeypatch.setattr(compose, "unsubscribe_url", lambda **_: "https://cadency.test/u/tok/")
    fields: dict[str, object] = {
        "mailbox": Mailbox(email="alice@example.test"),
        "sender_name": "Alice Martin",
        "to_name": "Jane Doe",
        "to_email": "jane@acme.test",
        "subject": "Quick question",
        "body": "Hi Jane,\n\nA <b>call</b>?",
        "message_id": "<fixed@example.test>",
        "enrollment_id": 42,
        **changes,
    }
    email = OutgoingEmail(**fields)  # type: ignore[arg-type]
    assert message_bytes(email) == build_message(email).as_bytes(policy=WIRE_POLICY)
