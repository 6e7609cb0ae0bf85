"""Mail-aware mutations: the ways real messages break, for the fuzzer's custom mutator.

Each takes the message and a random source and returns new bytes. ``mutate`` picks
one of them, or libFuzzer's own byte-level mutation, so coverage guidance works on
both realistic breakage (truncated, wrong charsets, broken MIME boundaries, huge
headers, nested reports, bad encodings) and raw byte noise.
"""

import random
import re
from collections.abc import Callable

Mutation = Callable[[bytes, random.Random], bytes]

CHARSETS = [
    b"x-unknown",
    b"",
    b'"',
    b"utf-16",
    b"utf-32-be",
    b"utf-7",
    b"idna",
    b"rot13",
    b"base64",
    b"zlib",
    b"hex",
    b"unicode_escape",
    b"iso-2022-jp",
    b"gb18030",
    b"cp1252",
    b"utf-8'en'",
    b"a" * 300,
]
HEADER_VALUES = [
    b"",
    b"yesterday",
    b"Mon, 99 Foo 99999 99:99:99 +9999",
    b"Tue, 31 Feb 2026 10:00:00 +0000",
    b"Sat, 28 Nov 0 10:02:00 +0000",
    b"28 Nov 2026 10:02:00 +99999999999999999999",
    b"=?x-bogus?q?abc?=",
    b"=?utf-8?b?!!!?=",
    b"=?utf-8?q?=ZZ=?=",
    b"=?utf-7?b?Ky0=?=",
    b"=?utf-8*en?q?ok?=",
    b"=?",
    b"<>",
    b"<<<@>>>",
    b'"unterminated <a@b',
    b"multipart/report; report-type=delivery-status",
    b'multipart/mixed; boundary=""',
    b"message/rfc822",
    b"text/calendar; method=REPLY",
    b"\x00\xff\xfe",
]
HEADER_NAMES = [
    b"Date",
    b"Subject",
    b"From",
    b"To",
    b"Message-ID",
    b"In-Reply-To",
    b"References",
    b"Content-Type",
    b"Content-Transfer-Encoding",
    b"Auto-Submitted",
    b"Return-Path",
]
INSERTS = [b"\x00", b"\r", b"\n\n", b"\r\n--", b"=?", b"\xff\xfe", b"\r\n ", b"=\r\n", b"--"]


def _at(raw: bytes, rng: random.Random) -> int:
    return rng.randint(0, len(raw))


def truncate(raw: bytes, rng: random.Random) -> bytes:
    return raw[: _at(raw, rng)]


def insert_token(raw: bytes, rng: random.Random) -> bytes:
    at = _at(raw, rng)
    return raw[:at] + rng.choice(INSERTS) * rng.randint(1, 50) + raw[at:]


def wrong_charset(raw: bytes, rng: random.Random) -> bytes:
    charset = rng.choice(CHARSETS)
    return re.sub(rb"(?i)charset=\"?[\w.:'-]*\"?", lambda _m: b"charset=" + charset, raw)


def break_boundary(raw: bytes, rng: random.Random) -> bytes:
    how = rng.randrange(5)
    if how == 0:
        return re.sub(rb'boundary="?([^";\r\n]+)"?', b'boundary="not-there"', raw, count=1)
    if how == 1:
        return re.sub(rb';\s*boundary="?[^";\r\n]+"?', b"", raw)
    if how == 2:
        return re.sub(rb"\r?\n--[^\r\n]+--", b"", raw)
    if how == 3:
        return re.sub(rb'boundary="?[^";\r\n]+"?', b'boundary=""', raw)
    return re.sub(rb"\r?\n--[^\r\n]+(?:--)?\r?\n", b"\r\n", raw)


def huge_header(raw: bytes, rng: random.Random) -> bytes:
    name = rng.choice(HEADER_NAMES)
    unit = rng.choice([b"a", b"a ", b"<x@y> ", b"=?utf-8?q?=C3=A9?= ", b"\r\n "])
    size = rng.choice([1_000, 10_000, 60_000])
    return name + b": " + unit * (size // len(unit)) + b"\r\n" + raw


def many_headers(raw: bytes, rng: random.Random) -> bytes:
    name = rng.choice([b"Received", b"X-Spam-Score", *HEADER_NAMES])
    return b"".join(name + b": v%d\r\n" % i for i in range(rng.choice([50, 500, 3_000]))) + raw


def replace_header(raw: bytes, rng: random.Random) -> bytes:
    name, value = rng.choice(HEADER_NAMES), rng.choice(HEADER_VALUES)
    pattern = rb"(?im)^" + name + rb":[^\r\n]*"
    if re.search(pattern, raw):
        return re.sub(pattern, lambda _m: name + b": " + value, raw, count=1)
    return name + b": " + value + b"\r\n" + raw


def bad_transfer_encoding(raw: bytes, rng: random.Random) -> bytes:
    encoding = rng.choice([b"base64", b"quoted-printable", b"x-uuencode", b"8bit", b"bogus"])
    garbage = rng.choice([b"!!!not base64!!!", b"QUJD=RE", b"=ZZ=\r\n=", b"=\r\n=0", b"\xff\x00"])
    raw = re.sub(rb"(?i)\r?\nContent-Transfer-Encoding:[^\r\n]*", b"", raw)
    return b"Content-Transfer-Encoding: " + encoding + b"\r\n" + raw + garbage


def nest(raw: bytes, rng: random.Random) -> bytes:
    """The message wrapped, once or many times, in a forward or a report."""
    depth = rng.randint(1, 60)
    head = b"From: Li Wei <li.wei@globex.test>\r\nSubject: Fwd: nested\r\nMIME-Version: 1.0\r\n"
    kind = rng.randrange(3)
    if kind == 0:
        return head + b"Content-Type: message/rfc822\r\n\r\n" * depth + raw
    subtype = b"report; report-type=delivery-status" if kind == 1 else b"mixed"
    opening = b"".join(
        b'Content-Type: multipart/%s; boundary="b%d"\r\n\r\n--b%d\r\n' % (subtype, i, i)
        + (b"Content-Type: message/rfc822\r\n\r\n" if kind == 1 else b"")
        for i in range(depth)
    )
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    return head + opening + raw + closing


def splice_lines(raw: bytes, rng: random.Random) -> bytes:
    """Lines shuffled between the header block and the body, or duplicated."""
    lines = raw.split(b"\n")
    if len(lines) < 2:
        return raw
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines.insert(j, lines[i])
    return b"\n".join(lines)


def line_endings(raw: bytes, rng: random.Random) -> bytes:
    target = rng.choice([b"\n", b"\r", b"\r\r\n", b"\r\n"])
    return re.sub(rb"\r?\n", target, raw)


MUTATIONS: list[Mutation] = [
    truncate,
    insert_token,
    wrong_charset,
    break_boundary,
    huge_header,
    many_headers,
    replace_header,
    bad_transfer_encoding,
    nest,
    splice_lines,
    line_endings,
]


def mutate(
    raw: bytes, max_size: int, seed: int, byte_level: Callable[[bytes, int], bytes]
) -> bytes:
    """One mutation of ``raw``: half the time libFuzzer's (``byte_level``), else a mail one."""
    rng = random.Random(seed)
    if rng.random() < 0.5:
        return byte_level(raw, max_size)
    return rng.choice(MUTATIONS)(raw, rng)[:max_size]
