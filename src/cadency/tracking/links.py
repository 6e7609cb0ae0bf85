"""Rewriting a step's email for tracking, once, when the message is fixed for sending.

With click tracking, every http(s) URL of the body becomes a signed redirect on
this server (the text part carries it; the HTML part links it under the original
text). With open tracking, the HTML part ends with a 1x1 image. Cadency's own
unsubscribe and tracking addresses are never wrapped, and the unsubscribe link and
List-Unsubscribe header are added by ``compose`` after this step, so they never
could be. With both off the email is returned untouched.
"""

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.urls import reverse

from cadency.outbound.compose import OutgoingEmail
from cadency.tracking.tokens import ClickClaim, make_click_token, make_open_token

URL_PATTERN = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
TRAILING_PUNCTUATION = ".,;:!?'\"\u00bb\u201d\u2019"  # closing quotes too
CLOSING = {")": "(", "]": "["}


@dataclass(frozen=True)
class Link:
    start: int
    end: int
    url: str


def trim(url: str) -> str:
    """Drop what ends a sentence rather than the URL: "see https://x.test/a)." → the URL."""
    while url:
        last = url[-1]
        unbalanced = last in CLOSING and url.count(CLOSING[last]) < url.count(last)
        if last not in TRAILING_PUNCTUATION and not unbalanced:
            break
        url = url[:-1]
    return url


def find_links(text: str) -> list[Link]:
    links = []
    for match in URL_PATTERN.finditer(text):
        url = trim(match.group())
        if "://" in url and not url.endswith("://"):
            links.append(Link(match.start(), match.start() + len(url), url))
    return links


def own_prefixes() -> tuple[str, ...]:
    """Cadency's addresses that must stay as they are: unsubscribe and tracking."""
    base = settings.CADENCY_BASE_URL
    unsubscribe = reverse("unsubscribe", args=["-"]).removesuffix("-/")
    return (base + unsubscribe, base + "/t/")


def click_url(run_id: int, index: int, url: str) -> str:
    token = make_click_token(ClickClaim(run_id=run_id, index=index, url=url))
    return settings.CADENCY_BASE_URL + reverse("tracking:click", args=[token])


def open_image_url(run_id: int) -> str:
    return settings.CADENCY_BASE_URL + reverse("tracking:open", args=[make_open_token(run_id)])


def open_image(run_id: int) -> str:
    src = html.escape(open_image_url(run_id))
    return (
        f'<img src="{src}" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0">'
    )


def with_tracking(
    email: OutgoingEmail, *, run_id: int, send_settings: Mapping[str, Any]
) -> OutgoingEmail:
    """The email as sent with the enrollment's tracking settings (missing keys: off)."""
    track_clicks = bool(send_settings.get("track_clicks", False))
    track_opens = bool(send_settings.get("track_opens", False))
    if not (track_clicks or track_opens):
        return email
    skipped = own_prefixes()
    links = [link for link in find_links(email.body) if not link.url.startswith(skipped)]
    targets = {
        link: click_url(run_id, index, link.url) if track_clicks else link.url
        for index, link in enumerate(links)
    }
    pieces_text, pieces_html, at = [], [], 0
    for link in links:
        before = email.body[at : link.start]
        pieces_text += [before, targets[link]]
        pieces_html += [
            html.escape(before),
            f'<a href="{html.escape(targets[link])}">{html.escape(link.url)}</a>',
        ]
        at = link.end
    pieces_text.append(email.body[at:])
    pieces_html.append(html.escape(email.body[at:]))
    markup = paragraphs("".join(pieces_html))
    if track_opens:
        markup += open_image(run_id)
    return replace(email, body="".join(pieces_text), html_body=markup)


def paragraphs(markup: str) -> str:
    """Blank lines part paragraphs and newlines break lines, as ``compose.text_to_html``."""
    return "".join(
        f"<p>{part.replace(chr(10), '<br>')}</p>" for part in markup.split("\n\n") if part.strip()
    )
