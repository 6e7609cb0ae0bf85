"""Telling a person's click or open from a machine's (SPEC issue 5: scanners are not people).

Security gateways follow every link of an incoming email to check it, link
previews fetch them to draw a card, browsers prefetch: none of these is a person
reading. A hit is a machine's when any of these holds, checked in this order:

1. a ``HEAD`` request: browsers follow links with GET; link checkers ask HEAD;
2. a prefetch or preview: ``Sec-Purpose``/``Purpose: prefetch`` (Chrome, Safari),
   ``X-Moz: prefetch`` (Firefox), ``X-Purpose: preview`` (Safari's previews);
3. no ``User-Agent`` at all: every browser and mail client sends one;
4. a user agent on the list below (scanners, link previews, HTTP libraries);
5. an image proxy (Gmail's, Yahoo's) following a *link*: they only ever fetch
   images, so for an open they are the person (that is how Gmail shows images)
   and for a click they are not;
6. too soon: within ``CADENCY_TRACKING_BOT_SECONDS`` (default 10) of the SMTP
   server accepting the email. Gateways (Microsoft Defender Safe Links,
   Proofpoint, Mimecast, Barracuda) scan at delivery, often with an ordinary
   browser's user agent from a cloud address, so timing is the sign that holds
   when the user agent lies. The same rule applies to opens: Apple Mail Privacy
   Protection and some gateways load images at delivery.

What this cannot see: Apple's proxy loading images later (user agent
``Mozilla/5.0``, Apple's addresses) and scanners that wait, so open counts are
an estimate and click counts a good one. Machine hits are stored in the ledger
as ``opened_bot``/``clicked_bot`` with the reason, never counted in reports.
"""

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    CLICK = "click"
    OPEN = "open"


# Substrings of user agents (case-insensitive), each a scanner, a preview or a library.
# Sources: vendors' documentation and the user agents email senders report in their
# logs (Crawler-Detect, Mailgun's and Resend's bot detection discussions).
SCANNER_AGENTS = (
    # Microsoft: Outlook.com / Defender link checks, Office link probes, Skype/Teams previews.
    "bingpreview",
    "microsoft office existence discovery",
    "microsoft office protocol discovery",
    "skypeuripreview",
    "microsoftpreview",
    # Email security gateways that announce themselves.
    "proofpoint",
    "mimecast",
    "barracuda",
    "messagelabs",
    "symantec",
    "ironport",
    "forcepoint",
    "sophos",
    "trend micro",
    "fortiguard",
    "spamexperts",
    "cloudmark",
    # Gmail samples links of incoming mail for spam checks.
    "gmail-content-sampling",
    # Chat and social link previews (a link pasted elsewhere is not a click in the email).
    "slackbot",
    "discordbot",
    "facebookexternalhit",
    "whatsapp",
    "telegrambot",
    "linkedinbot",
    "twitterbot",
    # Headless browsers and HTTP libraries.
    "headlesschrome",
    "phantomjs",
    "python-requests",
    "python-urllib",
    "python-httpx",
    "aiohttp",
    "curl/",
    "wget/",
    "go-http-client",
    "okhttp",
    "java/",
    "apache-httpclient",
    "libwww-perl",
    "axios/",
    "node-fetch",
)
# "Googlebot/2.1", "AhrefsBot", "Applebot", "YandexImages crawler"… but not the CUBOT phone.
GENERIC_AGENT = re.compile(r"(?<!cu)bot\b|crawler|spider|scanner|\bpreview\b", re.IGNORECASE)
# They fetch images when a person opens the email (Gmail, Yahoo): a person's open.
IMAGE_PROXIES = ("googleimageproxy", "yahoomailproxy")
PREFETCH_WORDS = ("prefetch", "prerender", "preview")


@dataclass(frozen=True)
class Hit:
    """What a request tells about who made it."""

    method: str
    user_agent: str
    purpose: str  # Sec-Purpose, Purpose, X-Purpose and X-Moz headers, joined
    at: dt.datetime


@dataclass(frozen=True)
class Verdict:
    human: bool
    reason: str = ""  # why a machine, for the ledger

    @classmethod
    def machine(cls, reason: str) -> "Verdict":
        return cls(human=False, reason=reason)


HUMAN = Verdict(human=True)


def known_agent(user_agent: str) -> str:
    """The listed scanner or library the user agent names, or ""."""
    lowered = user_agent.lower()
    for needle in SCANNER_AGENTS:
        if needle in lowered:
            return needle
    found = GENERIC_AGENT.search(user_agent)
    return found.group().lower() if found else ""


def classify(
    hit: Hit, *, kind: Kind, delivered_at: dt.datetime | None, bot_seconds: int
) -> Verdict:
    if hit.method.upper() == "HEAD":
        return Verdict.machine("HEAD request")
    purpose = hit.purpose.lower()
    if any(word in purpose for word in PREFETCH_WORDS):
        return Verdict.machine(f"prefetch ({hit.purpose.strip()})")
    if not hit.user_agent.strip():
        return Verdict.machine("no user agent")
    lowered = hit.user_agent.lower()
    proxy = next((p for p in IMAGE_PROXIES if p in lowered), "")
    if proxy and kind == Kind.CLICK:
        return Verdict.machine(f"image proxy following a link ({proxy})")
    agent = "" if proxy else known_agent(hit.user_agent)
    if agent:
        return Verdict.machine(f"scanner or preview user agent ({agent})")
    if delivered_at is None:
        return Verdict.machine("before delivery was recorded")
    elapsed = (hit.at - delivered_at).total_seconds()
    if elapsed < bot_seconds:
        return Verdict.machine(f"{max(elapsed, 0):.0f} s after delivery")
    return HUMAN
