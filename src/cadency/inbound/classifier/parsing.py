"""Bytes → one parsed message, with the few views of it every rule needs.

Parse once (``email.policy.default``); everything else is computed lazily and cached,
and never raises: a broken header, an unknown charset or a bad transfer encoding
degrade to the best text that can be had.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email
import email.policy
import html
import quopri
import re
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.policy import EmailPolicy
from email.utils import parseaddr, parsedate_to_datetime
from functools import cached_property
from typing import Any

MAX_TEXT = 40_000  # characters of body text the text rules look at
MAX_PARSED_HEADER = 2_000  # characters of a header the email library parses into an object


class UnparseableMessage(ValueError):
    """Nothing usable remains of the bytes: no header and no body."""


_SURROGATE = re.compile("[\udc80-\udcff]")
_TAG = re.compile(r"<[^>]{0,2000}>")
_BLOCK_TAG = re.compile(r"<\s*(?:br|/p|/div|/tr|/li|/h\d|p|div)\b[^>]{0,500}>", re.I)
_INVISIBLE = re.compile(r"<(style|script|head)\b.*?</\1\s*>", re.I | re.S)
_BLANKS = re.compile(r"[ \t\xa0]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def html_to_text(markup: str) -> str:
    markup = _INVISIBLE.sub(" ", markup[: MAX_TEXT * 4])
    markup = _BLOCK_TAG.sub("\n", markup)
    text = html.unescape(_TAG.sub("", markup))
    text = _BLANKS.sub(" ", text)
    return _MANY_NEWLINES.sub("\n\n", text)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset, else UTF-8, else Latin-1 (which never fails)."""
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    try:
        return data.decode(charset or "latin-1", errors="replace")
    except (LookupError, ValueError):
        return data.decode("latin-1")


def raw_header(part: Message, name: str) -> str:
    """A header's raw value, without the (slow) structured parsing of email.policy.default."""
    name = name.lower()
    for key, value in part.raw_items():
        if key.lower() == name:
            return str(value)
    return ""


_CTYPE = re.compile(r"^\s*([\w.+-]+/[\w.+-]+)")


def content_type(part: Message) -> str:
    match = _CTYPE.match(raw_header(part, "content-type"))
    return match.group(1).lower() if match else "text/plain"


def param(part: Message, header: str, name: str) -> str:
    """A parameter of a header (e.g. charset of Content-Type), '' when absent."""
    match = re.search(
        rf"(?:^|;)\s*{re.escape(name)}\s*=\s*(?:\"([^\"]*)\"|([^;\s]*))",
        raw_header(part, header),
        re.I,
    )
    return (match.group(1) or match.group(2) or "").strip() if match else ""


def payload_of(part: Message) -> Any:
    """``part.get_payload()``; its decoded bytes when the library, reading 8-bit text
    with the declared charset, raises (codecs refusing errors="replace": idna, punycode)."""
    try:
        return part.get_payload()
    except UnicodeError:
        return part.get_payload(decode=True)


def payload_bytes(part: Message) -> bytes:
    """The part's body with its transfer encoding undone (best effort, never raises)."""
    payload = payload_of(part)
    if isinstance(payload, bytes):
        return payload
    if not isinstance(payload, str):
        return b""
    try:
        data = payload.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:  # 8-bit text the library already decoded: ask for the bytes
        try:
            decoded = part.get_payload(decode=True)
        except Exception:
            decoded = None
        return decoded if isinstance(decoded, bytes) else payload.encode("utf-8", "replace")
    encoding = raw_header(part, "content-transfer-encoding").strip().lower()
    try:
        if encoding == "base64":
            return base64.b64decode(re.sub(rb"[^A-Za-z0-9+/=]", b"", data) + b"===")
        if encoding == "quoted-printable":
            return quopri.decodestring(data)
    except (binascii.Error, ValueError):
        return data
    return data


def part_text(part: Message) -> str:
    """The decoded text of a leaf part."""
    return decode_bytes(payload_bytes(part)[: MAX_TEXT * 4], param(part, "content-type", "charset"))


def decode_header_value(value: str) -> str:
    """RFC 2047 words decoded; the raw value when they are broken; raw 8-bit as UTF-8."""
    if _SURROGATE.search(value):
        value = decode_bytes(value.encode("utf-8", "surrogateescape"), "utf-8")
    try:
        return str(make_header(decode_header(value)))
    except Exception:
        return value


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n[ \t]*", " ", value).strip()


def _content_type(part: Message) -> str:
    return content_type(part)


class Parsed:
    """One message, parsed once. Header names are looked up case-insensitively."""

    def __init__(self, raw: bytes, message: Message) -> None:
        self.raw = raw
        self.message = message
        self.cache: dict[str, Any] = {}
        self.headers: dict[str, list[str]] = {}
        for name, value in message.raw_items():
            self.headers.setdefault(name.lower(), []).append(_unfold(str(value)))

    # ---- headers
    def header(self, name: str) -> str:
        values = self.headers.get(name.lower())
        return values[0] if values else ""

    def has(self, name: str) -> bool:
        return name.lower() in self.headers

    @cached_property
    def subject(self) -> str:
        return decode_header_value(self.header("subject")).strip()

    @cached_property
    def from_address(self) -> str:
        return parseaddr(decode_header_value(self.header("from")))[1].lower()

    @cached_property
    def from_display(self) -> str:
        return decode_header_value(self.header("from"))

    @cached_property
    def return_path(self) -> str | None:
        """The Return-Path address ('' for the null path <>), None when absent."""
        if not self.has("return-path"):
            return None
        value = self.header("return-path").strip()
        if value in ("<>", "", "< >"):
            return ""
        return parseaddr(value)[1].lower() or value.strip("<> ").lower()

    @cached_property
    def date(self) -> dt.datetime | None:
        value = self.header("date")
        if not value:
            return None
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        return parsed

    @cached_property
    def content_type(self) -> str:
        return _content_type(self.message)

    # ---- structure
    @cached_property
    def parts(self) -> list[Message]:
        """Leaf and container parts of this message, not descending into attached messages."""
        found: list[Message] = []
        stack: list[Message] = [self.message]
        while stack and len(found) < 500:
            part = stack.pop()
            found.append(part)
            ctype = _content_type(part)
            if ctype.startswith("multipart/"):
                payload = payload_of(part)
                if isinstance(payload, list):
                    stack.extend(p for p in reversed(payload) if isinstance(p, Message))
        return found

    @cached_property
    def attached_messages(self) -> list[Message]:
        """The messages carried by message/rfc822 (and message/global) parts."""
        found = []
        for part in self.parts:
            if _content_type(part) in ("message/rfc822", "message/global"):
                payload = payload_of(part)
                if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                    found.append(payload[0])
        return found

    def parts_of_type(self, *ctypes: str) -> list[Message]:
        return [part for part in self.parts if _content_type(part) in ctypes]

    @cached_property
    def body_text(self) -> str:
        """The message's own text: the text/plain parts, else the HTML ones as text."""
        plain: list[str] = []
        markup: list[str] = []
        for part in self.parts:
            ctype = _content_type(part)
            if ctype not in ("text/plain", "text/html") or _is_attachment(part):
                continue
            text = part_text(part)
            (plain if ctype == "text/plain" else markup).append(text)
        if plain and any(t.strip() for t in plain):
            text = "\n".join(plain)
        else:
            text = "\n".join(html_to_text(m) for m in markup)
        if not text.strip() and isinstance(payload_of(self.message), str):
            text = self.raw_body  # a multipart whose boundary is missing: read it as text
        return text.replace("\r\n", "\n").replace("\r", "\n")[:MAX_TEXT]

    @cached_property
    def raw_body(self) -> str:
        """The bytes after the header block, as text (for structure the parser lost)."""
        for separator in (b"\r\n\r\n", b"\n\n"):
            _head, found, body = self.raw.partition(separator)
            if found:
                return decode_bytes(body[: MAX_TEXT * 2], "utf-8")
        return ""

    @cached_property
    def all_text(self) -> str:
        """Every text part, including those of attached messages and text attachments."""
        chunks = []
        for part in self.message.walk() if isinstance(self.message, Message) else []:
            ctype = _content_type(part)
            if ctype in ("text/plain", "text/html", "message/delivery-status"):
                if ctype == "message/delivery-status":  # read by the report rules
                    continue
                text = part_text(part)
                chunks.append(html_to_text(text) if ctype == "text/html" else text)
            if sum(len(c) for c in chunks) > MAX_TEXT * 2:
                break
        return "\n".join(chunks).replace("\r\n", "\n")


def _is_attachment(part: Message) -> bool:
    return raw_header(part, "content-disposition").strip().lower().startswith("attachment")


class BoundedPolicy(EmailPolicy):
    """``email.policy.default``, structuring only the first MAX_PARSED_HEADER characters
    of a header: its parser takes quadratic time (30 s for a 100 KB Content-Type)."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if len(value) > MAX_PARSED_HEADER:
            value = value[:MAX_PARSED_HEADER]
        return super().header_fetch_parse(name, value)


POLICY = BoundedPolicy()


def parse(raw: bytes) -> Parsed:
    if not raw or not raw.strip():
        raise UnparseableMessage("empty message")
    try:
        message: Message = email.message_from_bytes(raw, policy=POLICY)
    except Exception:
        try:
            message = email.message_from_bytes(raw, policy=email.policy.compat32)
        except Exception as error:
            raise UnparseableMessage(f"the email parser gave up: {error}") from error
    if not isinstance(message, Message):
        raise UnparseableMessage("no message")
    parsed = Parsed(raw, message)
    if not parsed.headers:
        text = parsed.body_text.strip()
        if not text or not re.search(r"\w", text):
            raise UnparseableMessage("no header and no readable text")
    return parsed


__all__ = ["EmailMessage", "Parsed", "UnparseableMessage", "decode_bytes", "parse", "part_text"]
