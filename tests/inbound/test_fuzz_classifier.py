"""Fuzzing the classifier: realistic seed messages, mutated the ways real mail breaks.

Every mutant is classified with a known label, or refused with ``UnparseableMessage``
(the documented error path: ``cadency classify`` reports it as ``error``), within
the deadline. The seeds and the ``mutated_messages`` strategy are shared with
``test_fuzz_pipeline.py``.
"""

import re
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadency.inbound.classification import Classification, Label
from cadency.inbound.classifier import UnparseableMessage, classify_message

THREAD_ID = "<cadency.fuzz.1@example.test>"
CONTACT = "jane.doe@acme.test"


def crlf(text: str, charset: str = "utf-8") -> bytes:
    return text.lstrip("\n").replace("\n", "\r\n").encode(charset)


HUMAN_REPLY = crlf(f"""
Return-Path: <{CONTACT}>
From: Jane Doe <{CONTACT}>
To: Alice Seller <alice@example.test>
Subject: Re: Quick question
Date: Sat, 28 Nov 2026 10:02:00 +0000
Message-ID: <reply.1@mail.acme.test>
In-Reply-To: {THREAD_ID}
References: {THREAD_ID}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Hi Alice, Tuesday at 10 works for me.

Jane

On Fri, 27 Nov 2026, Alice Seller wrote:
> Would you have 20 minutes next week?
""")

DSN = crlf(f"""
Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.acme.test>
To: alice@example.test
Subject: Undelivered Mail Returned to Sender
Date: Sat, 28 Nov 2026 10:02:00 +0000
Message-ID: <dsn.1@mx.acme.test>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-boundary"

--dsn-boundary
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.
<{CONTACT}>: host mx.acme.test said: 550 5.1.1 User unknown

--dsn-boundary
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.acme.test
Arrival-Date: Sat, 28 Nov 2026 10:01:58 +0000

Final-Recipient: rfc822; {CONTACT}
Original-Recipient: rfc822;{CONTACT}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{CONTACT}>: Recipient address rejected

--dsn-boundary
Content-Type: text/rfc822-headers

From: Alice Seller <alice@example.test>
To: {CONTACT}
Subject: Quick question
Message-ID: {THREAD_ID}

--dsn-boundary--
""")

AUTO_REPLY = crlf(f"""
From: Jane Doe <{CONTACT}>
To: alice@example.test
Subject: Automatic reply: Quick question
Date: Sat, 28 Nov 2026 10:02:00 +0000
Message-ID: <ooo.1@mail.acme.test>
In-Reply-To: {THREAD_ID}
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
Precedence: auto_reply
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

I am out of the office until Monday 7 December 2026 with limited access to email.
For urgent matters please contact John Roe <john.roe@acme.test>.
""")

NESTED_REPORT = crlf(f"""
From: Jane Doe <{CONTACT}>
To: alice@example.test
Subject: Fwd: Delivery Status Notification (Failure)
Date: Sat, 28 Nov 2026 10:02:00 +0000
Message-ID: <fwd.1@mail.acme.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: text/plain; charset=utf-8

Alice, our old address bounced your message, see below.

--outer
Content-Type: message/rfc822

From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {CONTACT}
Subject: Delivery Status Notification (Failure)
Message-ID: <inner.1@mx.acme.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8

Your message wasn't delivered.

--inner
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com

Final-Recipient: rfc822; old@acme.test
Action: failed
Status: 5.1.1

--inner
Content-Type: message/rfc822

From: Alice Seller <alice@example.test>
To: old@acme.test
Subject: Quick question
Message-ID: {THREAD_ID}

Hi, would you have 20 minutes next week?

--inner--

--outer--
""")

CALENDAR_REPLY = crlf(f"""
From: Jane Doe <{CONTACT}>
To: alice@example.test
Subject: Accepted: Intro call
Date: Sat, 28 Nov 2026 10:02:00 +0000
Message-ID: <cal.1@mail.acme.test>
In-Reply-To: {THREAD_ID}
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="cal"

--cal
Content-Type: text/plain; charset=utf-8

Jane Doe has accepted this invitation.

--cal
Content-Type: text/calendar; charset=utf-8; method=REPLY
Content-Transfer-Encoding: base64

QkVHSU46VkNBTEVOREFSDQpNRVRIT0Q6UkVQTFkNClBST0RJRDotLy9BY21lLy9DYWxlbmRhci8v
RU4NClZFUlNJT046Mi4wDQpCRUdJTjpWRVZFTlQNClVJRDpjYWRlbmN5LW1lZXRpbmctMUBleGFt
cGxlLnRlc3QNCkRUU1RBTVA6MjAyNjExMjhUMTAwMjAwWg0KRFRTVEFSVDoyMDI2MTIwMVQxMDAw
MDBaDQpPUkdBTklaRVI6bWFpbHRvOmFsaWNlQGV4YW1wbGUudGVzdA0KQVRURU5ERUU7UEFSVFNU
QVQ9QUNDRVBURUQ6bWFpbHRvOmphbmUuZG9lQGFjbWUudGVzdA0KRU5EOlZFVkVOVA0KRU5EOlZD
QUxFTkRBUg0K

--cal--
""")

ENCODED_SUBJECT = crlf(f"""
From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <{CONTACT}>
To: alice@example.test
Subject: =?utf-8?b?UmU6IEdyw7zDn2UgYXVzIE3DvG5jaGVu?= =?iso-8859-1?q?_=E0_bient=F4t?=
Date: Sat, 28 Nov 2026 10:02:00 +0100
Message-ID: <utf.1@mail.acme.test>
In-Reply-To: {THREAD_ID}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Grüße, ça me va très bien — 你好.
""")

WINDOWS_1252_QP = crlf(f"""
From: Jeanne Dupont <{CONTACT}>
To: alice@example.test
Subject: Re: Quick question
Date: Sat, 28 Nov 2026 10:02:00 +0000
Message-ID: <qp.1@mail.acme.test>
In-Reply-To: {THREAD_ID}
MIME-Version: 1.0
Content-Type: text/plain; charset=windows-1252
Content-Transfer-Encoding: quoted-printable

Bonjour Alice, =93merci=94 pour votre message =96 je suis int=E9ress=E9e, =
appelez-moi mardi =80 10h.
""")

SEEDS = {
    "human_reply": HUMAN_REPLY,
    "dsn": DSN,
    "auto_reply": AUTO_REPLY,
    "nested_report": NESTED_REPORT,
    "calendar_reply": CALENDAR_REPLY,
    "encoded_subject": ENCODED_SUBJECT,
    "windows_1252_qp": WINDOWS_1252_QP,
}

CHARSETS = [
    "x-unknown-charset",
    "",
    '"',
    "utf-16",
    "utf-32",
    "utf-7",
    "idna",
    "punycode",
    "rot13",
    "base64",
    "zlib",
    "hex",
    "unicode_escape",
    "iso-2022-jp",
    "gb18030",
    "windows-1252",
    "us-ascii",
    "utf-8'en'",
    "a" * 300,
]
DATES = [
    "",
    "yesterday",
    "Mon, 99 Foo 99999 99:99:99 +9999",
    "Tue, 31 Feb 2026 10:00:00 +0000",
    "Sat, 28 Nov 0 10:02:00 +0000",
    "Sat, 28 Nov 10000 10:02:00 +0000",
    "Sat, 28 Nov 2026 25:61:61 -2400",
    "28 Nov 2026 10:02:00 +99999999999999999999",
    "\x00",
    "=?utf-8?b?!!!?=",
]
ENCODED_WORDS = [
    "=?x-bogus?q?abc?=",
    "=?utf-8?b?!!!?=",
    "=?utf-8?q?=ZZ=?=",
    "=?rot13?q?abc?=",
    "=?utf-7?b?Ky0=?=",
    "=?utf-8*en?q?ok?=",
    "=?utf-8?x?abc?=",
    "=?",
]


def header_block_end(raw: bytes) -> int:
    for separator in (b"\r\n\r\n", b"\n\n"):
        found = raw.find(separator)
        if found != -1:
            return found
    return len(raw)


def with_header(raw: bytes, header: bytes) -> bytes:
    """``header`` (one or more CRLF-ended lines) placed at the top of the header block."""
    return header + raw


Mutation = Callable[[bytes], bytes]


@st.composite
def truncation(draw: st.DrawFn) -> Mutation:
    fraction = draw(st.floats(0, 1))
    return lambda raw: raw[: int(len(raw) * fraction)]


@st.composite
def byte_flip(draw: st.DrawFn) -> Mutation:
    fraction, mask = draw(st.floats(0, 1)), draw(st.integers(1, 255))

    def flip(raw: bytes) -> bytes:
        if not raw:
            return raw
        at = min(int(len(raw) * fraction), len(raw) - 1)
        return raw[:at] + bytes([raw[at] ^ mask]) + raw[at + 1 :]

    return flip


@st.composite
def insertion(draw: st.DrawFn) -> Mutation:
    fraction = draw(st.floats(0, 1))
    inserted = draw(
        st.one_of(
            st.binary(min_size=1, max_size=20),
            st.sampled_from([b"\x00", b"\x00" * 50, b"\r", b"\n\n", b"\r\n--", b"=?", b"\xff\xfe"]),
        )
    )

    def insert(raw: bytes) -> bytes:
        at = int(len(raw) * fraction)
        return raw[:at] + inserted + raw[at:]

    return insert


@st.composite
def deletion(draw: st.DrawFn) -> Mutation:
    fraction, size = draw(st.floats(0, 1)), draw(st.integers(1, 200))

    def delete(raw: bytes) -> bytes:
        at = int(len(raw) * fraction)
        return raw[:at] + raw[at + size :]

    return delete


@st.composite
def wrong_charset(draw: st.DrawFn) -> Mutation:
    charset = draw(st.sampled_from(CHARSETS)).encode()
    return lambda raw: re.sub(rb"(?i)charset=\"?[\w.:'-]*\"?", b"charset=" + charset, raw)


@st.composite
def broken_boundary(draw: st.DrawFn) -> Mutation:
    how = draw(st.sampled_from(["rename", "drop_param", "drop_closing", "drop_markers", "empty"]))

    def brake(raw: bytes) -> bytes:
        if how == "rename":
            return re.sub(rb'boundary="?([\w-]+)"?', b'boundary="not-there"', raw, count=1)
        if how == "drop_param":
            return re.sub(rb';\s*boundary="?[\w-]+"?', b"", raw)
        if how == "drop_closing":
            return re.sub(rb"\r\n--[\w-]+--", b"", raw)
        if how == "empty":
            return re.sub(rb'boundary="?[\w-]+"?', b'boundary=""', raw)
        return re.sub(rb"\r\n--[\w-]+(?:--)?\r\n", b"\r\n", raw)

    return brake


@st.composite
def huge_header(draw: st.DrawFn) -> Mutation:
    name = draw(st.sampled_from([b"X-Huge", b"Subject", b"From", b"References", b"Content-Type"]))
    unit = draw(st.sampled_from([b"a", b"a ", b"<x@y> ", b"=?utf-8?q?=C3=A9?= ", b"\r\n "]))
    value = unit * (100_000 // len(unit))
    return lambda raw: with_header(raw, name + b": " + value + b"\r\n")


@st.composite
def many_headers(draw: st.DrawFn) -> Mutation:
    count = draw(st.integers(1_000, 5_000))
    name = draw(st.sampled_from([b"X-Spam-Score", b"Received", b"Subject", b"Content-Type"]))
    block = b"".join(name + b": v%d\r\n" % i for i in range(count))
    return lambda raw: with_header(raw, block)


@st.composite
def deep_nesting(draw: st.DrawFn) -> Mutation:
    depth = draw(st.integers(2, 100))
    kind = draw(st.sampled_from([b"multipart/mixed", b"message/rfc822"]))

    def nest(raw: bytes) -> bytes:
        head = b"From: Jane Doe <jane.doe@acme.test>\r\nSubject: Re: nested\r\n"
        if kind == b"message/rfc822":
            return head + b"Content-Type: message/rfc822\r\n\r\n" * depth + raw
        opening = b"".join(
            b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
            for i in range(depth)
        )
        closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
        return head + opening + raw + closing

    return nest


@st.composite
def bad_transfer_encoding(draw: st.DrawFn) -> Mutation:
    encoding = draw(st.sampled_from([b"base64", b"quoted-printable", b"x-uuencode", b"7bit"]))
    garbage = draw(
        st.sampled_from([b"!!!not base64!!!", b"QUJD=RE", b"=ZZ=\r\n=", b"=\r\n=0", b"\xff\x00"])
    )

    def encode_badly(raw: bytes) -> bytes:
        raw = re.sub(rb"(?i)\r\nContent-Transfer-Encoding:[^\r]*", b"", raw)
        end = header_block_end(raw)
        return raw[:end] + b"\r\nContent-Transfer-Encoding: " + encoding + raw[end:] + garbage

    return encode_badly


@st.composite
def bad_header_value(draw: st.DrawFn) -> Mutation:
    name = draw(st.sampled_from([b"Date", b"Subject", b"From", b"Content-Type", b"Message-ID"]))
    value = draw(st.sampled_from([*DATES, *ENCODED_WORDS])).encode()

    def replace(raw: bytes) -> bytes:
        pattern = rb"(?im)^" + name + rb":[^\r\n]*"
        return re.sub(pattern, lambda _match: name + b": " + value, raw, count=1)

    return replace


MUTATIONS = st.one_of(
    truncation(),
    byte_flip(),
    insertion(),
    deletion(),
    wrong_charset(),
    broken_boundary(),
    huge_header(),
    many_headers(),
    bad_transfer_encoding(),
    bad_header_value(),
)


@st.composite
def mutated_messages(draw: st.DrawFn) -> bytes:
    """A seed message with one to four mutations applied in turn, maybe nested deeply.

    Nesting happens once at most: the standard library's parser takes time quadratic
    in the depth times the lines (1 s for 1,000 levels); Postfix stops at 100 levels.
    """
    raw = draw(st.sampled_from(list(SEEDS.values())))
    for mutate in draw(st.lists(MUTATIONS, min_size=1, max_size=4)):
        raw = mutate(raw)
    if draw(st.booleans()):
        raw = draw(deep_nesting())(raw)
    return raw


FUZZ_SETTINGS = settings(
    max_examples=150,
    deadline=5_000,  # generous: the machine is shared; typical runs take < 0.5 s
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def classify_or_refuse(raw: bytes) -> Classification | None:
    try:
        return classify_message(raw)
    except UnparseableMessage:
        return None


def test_every_seed_is_classified_as_written() -> None:
    expected = {
        "human_reply": Label.HUMAN_REPLY,
        "dsn": Label.BOUNCE_HARD,
        "auto_reply": Label.AUTO_REPLY,
        "calendar_reply": Label.CALENDAR_REPLY,
        "encoded_subject": Label.HUMAN_REPLY,
        "windows_1252_qp": Label.HUMAN_REPLY,
    }
    for name, label in expected.items():
        assert classify_message(SEEDS[name]).label == label, name


@FUZZ_SETTINGS
@given(raw=mutated_messages())
def test_a_mutated_message_is_classified_or_refused_as_unparseable(raw: bytes) -> None:
    result = classify_or_refuse(raw)
    if result is not None:
        assert result.label in set(Label)
        assert 0 <= result.confidence <= 1
        assert result.reasons


@FUZZ_SETTINGS
@given(raw=st.binary(max_size=2_000))
def test_arbitrary_bytes_are_classified_or_refused_as_unparseable(raw: bytes) -> None:
    result = classify_or_refuse(raw)
    if result is not None:
        assert result.label in set(Label)
