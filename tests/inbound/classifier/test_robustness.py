import pytest

from cadency.inbound.classification import Label
from cadency.inbound.classifier import UnparseableMessage, classify_message
from tests.inbound.classifier.helpers import crlf, reply


def classify_or_unparseable(raw: bytes) -> str:
    try:
        return str(classify_message(raw).label)
    except UnparseableMessage:
        return "unparseable"


@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n  "])
def test_empty_bytes_are_unparseable(raw: bytes) -> None:
    with pytest.raises(UnparseableMessage):
        classify_message(raw)


def test_a_truncated_message_is_still_classified() -> None:
    raw = crlf(reply("I am currently out of the office until Monday 8 March."))
    assert classify_or_unparseable(raw[: len(raw) // 2]) in {str(label) for label in Label}


def test_a_wrong_charset_does_not_break_it() -> None:
    raw = crlf(reply("Merci, je suis là !", charset="x-unknown-charset"))
    assert classify_message(raw).label == Label.HUMAN_REPLY


def test_latin1_bytes_labelled_utf8_are_read() -> None:
    raw = crlf(reply("Je suis absente du bureau, de retour le 8 mars.")).replace(
        "é".encode(), "é".encode("latin-1")
    )
    assert classify_message(raw).label in (Label.AUTO_REPLY, Label.HUMAN_REPLY)


def test_a_broken_boundary_does_not_break_it() -> None:
    raw = crlf(
        """
From: Jane Doe <jane.doe@acme.test>
To: ola@example.com
Subject: Re: Quick question
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="missing"

--other
Content-Type: text/plain

Hello Ola, sounds good.
--other--
"""
    )
    assert classify_message(raw).label == Label.HUMAN_REPLY


def test_a_bad_base64_body_does_not_break_it() -> None:
    raw = crlf(reply("!!!not base64!!!")).replace(
        b"Content-Transfer-Encoding: 8bit", b"Content-Transfer-Encoding: base64"
    )
    assert classify_or_unparseable(raw) == "human_reply"


def test_a_one_megabyte_header_does_not_break_it() -> None:
    raw = crlf(reply("Hello.", extra=f"X-Long: {'a' * 1_000_000}\n"))
    assert classify_message(raw).label == Label.HUMAN_REPLY


def test_binary_garbage_is_a_classification_or_unparseable() -> None:
    raw = bytes(range(256)) * 20
    assert classify_or_unparseable(raw) in {"unparseable", *(str(label) for label in Label)}


def test_a_header_only_message_is_classified() -> None:
    raw = b"From: jane.doe@acme.test\r\nSubject: Automatic reply: hi\r\n"
    assert classify_message(raw).label == Label.AUTO_REPLY


def test_a_broken_calendar_is_read_as_best_it_can() -> None:
    raw = crlf(
        """
From: Jane Doe <jane.doe@acme.test>
To: ola@example.com
Subject: Accepted: Intro call
Content-Type: text/calendar; method=REPLY

BEGIN:VCALENDAR
METHOD:REPLY
ATTENDEE;PARTSTAT=ACCEPTED:mailto:jane.doe@acme.test
"""
    )
    result = classify_message(raw)
    assert result.label == Label.CALENDAR_REPLY
    assert result.calendar_partstat == "ACCEPTED"


def test_a_broken_date_header_does_not_break_return_dates() -> None:
    raw = crlf(
        reply("I am out of the office, back on 8 March.", subject="Out of Office").replace(
            "Date: Wed, 3 Mar 2027 10:00:00 +0000", "Date: not a date at all"
        )
    )
    assert classify_message(raw).label == Label.AUTO_REPLY
