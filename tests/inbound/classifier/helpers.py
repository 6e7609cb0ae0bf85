"""Small helpers for the classifier tests: fixtures are literal RFC 5322 text."""

from cadency.inbound.classification import Classification
from cadency.inbound.classifier import classify_message


def crlf(text: str) -> bytes:
    """A fixture written with \\n lines, sent as MTAs do (CRLF), UTF-8 for 8-bit text."""
    return text.lstrip("\n").replace("\n", "\r\n").encode("utf-8")


def classify(text: str | bytes) -> Classification:
    return classify_message(crlf(text) if isinstance(text, str) else text)


def reply(
    body: str,
    *,
    subject: str = "Re: Quick question",
    extra: str = "",
    sender: str = "Jane Doe <jane.doe@acme.test>",
    date: str = "Wed, 3 Mar 2027 10:00:00 +0000",
    charset: str = "utf-8",
) -> str:
    """A plain-text message to our rep, with whatever extra headers a test needs."""
    return f"""
Return-Path: <{sender.split("<")[-1].rstrip(">")}>
From: {sender}
To: Ola Seller <ola@example.com>
Subject: {subject}
Date: {date}
Message-ID: <reply-1@acme.test>
In-Reply-To: <cad-1@example.com>
References: <cad-1@example.com>
{extra}MIME-Version: 1.0
Content-Type: text/plain; charset={charset}
Content-Transfer-Encoding: 8bit

{body}
"""
