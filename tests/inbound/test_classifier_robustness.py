"""Regressions found by fuzzing the classifier and the pipeline (test_fuzz_*.py)."""

import time

import pytest

from cadency.inbound.classification import Label
from cadency.inbound.classifier import classify_message
from cadency.inbound.pipeline import extract_headers

REPLY = (
    b"From: Jane Doe <jane.doe@acme.test>\r\nSubject: Re: Quick question\r\n"
    b"Date: %s\r\n\r\nTuesday works for me.\r\n"
)


def test_a_date_with_an_absurd_offset_gives_no_date_instead_of_crashing() -> None:
    raw = REPLY % b"28 Nov 2026 10:02:00 +99999999999999999999"
    assert classify_message(raw).label == Label.HUMAN_REPLY
    assert extract_headers(raw).sent_at is None


def test_a_100_kb_content_type_is_classified_quickly() -> None:
    raw = b"Content-Type: " + b"<x@y> " * 16_666 + b"\r\n" + REPLY % b"Sat, 28 Nov 2026"
    started = time.perf_counter()
    classify_message(raw)
    assert time.perf_counter() - started < 2  # was 30 s


@pytest.mark.parametrize("charset", [b"idna", b"punycode"])
def test_8bit_text_in_a_charset_that_refuses_replacement_is_classified(charset: bytes) -> None:
    raw = (
        b"From: Jane Doe <jane.doe@acme.test>\r\nSubject: Re: Quick question\r\n"
        b"Content-Type: text/plain; charset=" + charset + b"\r\n\r\nMerci, \xe0 mardi.\r\n"
    )
    assert classify_message(raw).label == Label.HUMAN_REPLY


def test_a_bounce_with_a_60_kb_header_without_an_address_is_classified_quickly() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.test\r\nTo: " + b"a" * 60_000 + b"\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n\r\n"
        b"<jane@acme.test>: host mx.acme.test said: 550 5.1.1 User unknown\r\n"
    )
    started = time.perf_counter()
    classification = classify_message(raw)
    assert time.perf_counter() - started < 2  # was 30 s and more
    assert classification.label == Label.BOUNCE_HARD
    assert [r.address for r in classification.failed_recipients] == ["jane@acme.test"]


def test_an_address_with_a_local_part_beyond_64_characters_is_not_cut_to_a_wrong_one() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.test\r\nTo: alice@example.test\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n\r\n"
        b"<" + b"x" * 70 + b"@acme.test>: host mx.acme.test said: 550 5.1.1 User unknown\r\n"
    )
    addresses = [r.address for r in classify_message(raw).failed_recipients]
    assert not [a for a in addresses if a.endswith("@acme.test") and len(a) < 70]


def test_a_bounce_with_a_60_kb_body_line_is_classified_quickly() -> None:
    raw = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.test>\r\nTo: alice@example.test\r\n"
        b"Subject: Mail delivery failed: returning message to sender\r\n\r\n"
        b"A message that you sent could not be delivered to one or more of its\r\n"
        b"recipients. This is a permanent error.\r\n\r\n"
        b"------ This is a copy of the message, including all the " + b"a" * 60_000 + b"\r\n"
    )
    started = time.perf_counter()
    assert classify_message(raw).label == Label.BOUNCE_HARD
    assert time.perf_counter() - started < 2  # flufl.bounce took 14 s on that line
