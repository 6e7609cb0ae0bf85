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
