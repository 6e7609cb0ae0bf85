"""Rewriting the email for tracking: off leaves every byte as it was; on wraps each web link
of the body in a signed redirect (never the unsubscribe link) and adds the open image."""

import datetime as dt
import html
import random
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
import time_machine

from cadency.accounts.models import User
from cadency.outbound.compose import OutgoingEmail, message_bytes
from cadency.tracking.links import find_links, with_tracking
from cadency.tracking.tokens import read_click_token
from tests.factories import make_mailbox, make_user
from tests.tracking.support import (
    BODY,
    CLICK_URL,
    ORIGINAL_URLS,
    click_paths,
    parts,
    received,
    sent_run,
    tracked_sequence,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice() -> User:
    user = make_user("alice", first_name="Alice", last_name="Martin")
    make_mailbox(user, "alice@example.test")
    return user


def outgoing(alice: User, body: str = BODY) -> OutgoingEmail:
    return OutgoingEmail(
        mailbox=alice.mailboxes.get(),
        sender_name="Alice Martin",
        to_name="Jane Doe",
        to_email="jane@acme.test",
        subject="Pricing",
        body=body,
        message_id="<fixed@example.test>",
        enrollment_id=7,
    )


@pytest.mark.parametrize(
    "send_settings",
    [{}, {"track_clicks": False, "track_opens": False}, {"thread_follow_ups": True}],
    ids=["older snapshot without the keys", "both off", "other settings only"],
)
def test_with_tracking_off_the_message_is_byte_identical(
    alice: User, send_settings: dict[str, object]
) -> None:
    email = outgoing(alice)
    untouched = with_tracking(email, run_id=1, send_settings=send_settings)
    assert untouched is email
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False):
        random.seed(5)  # the MIME boundary is random
        before = message_bytes(email)
        random.seed(5)
        after = message_bytes(untouched)
    assert after == before


def test_a_step_of_a_sequence_without_tracking_sends_its_links_as_written(alice: User) -> None:
    run = sent_run(alice, tracked_sequence(alice, clicks=False, opens=False))
    text, markup = parts(run)
    for url in ORIGINAL_URLS:
        assert url in text
    assert "/t/c/" not in text and "/t/o/" not in markup
    assert markup.count("<a ") == 1, "only the unsubscribe link"


def test_every_web_link_is_wrapped_and_the_unsubscribe_link_never_is(alice: User) -> None:
    run = sent_run(alice, tracked_sequence(alice, clicks=True, opens=False))
    message = received(run)
    text, markup = parts(run)
    paths = click_paths(run)
    assert len(paths) == len(ORIGINAL_URLS)
    claims = [read_click_token(path.split("/")[3]) for path in paths]
    assert [c.url for c in claims] == ORIGINAL_URLS
    assert [c.index for c in claims] == [0, 1, 2]
    assert {c.run_id for c in claims} == {run.pk}
    for url in ORIGINAL_URLS:
        assert url not in text, "the text part carries only the tracked address"
    assert "To stop these emails: http://testserver/u/" in text
    assert "<http://testserver/u/" in message["List-Unsubscribe"]
    assert "/t/" not in message["List-Unsubscribe"]
    assert "Unsubscribe</a>" in markup and 'href="http://testserver/u/' in markup
    assert "mailto:sales@example.com" in text, "only http(s) links are tracked"


def test_the_text_part_still_reads_well(alice: User) -> None:
    run = sent_run(alice, tracked_sequence(alice, clicks=True, opens=True))
    text, _ = parts(run)
    lines = text.splitlines()
    assert lines[0] == "Hi Jane,"
    assert lines[2].startswith("Our pricing is at http://testserver/t/c/")
    assert lines[2].endswith("/."), "the full stop stays outside the link"
    assert lines[3].startswith("The case study (http://testserver/t/c/")
    assert lines[3].endswith("/) shows more.")
    assert lines[6].startswith("A <b>call</b>? http://testserver/t/c/")


def test_the_composed_message_is_valid_mime_with_links_and_the_open_image(alice: User) -> None:
    run = sent_run(alice, tracked_sequence(alice, clicks=True, opens=True))
    message = received(run)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert not message.defects and all(not p.defects for p in message.iter_parts())
    text, markup = parts(run)
    wrapped = CLICK_URL.findall(text)
    for path, url in zip(wrapped, ORIGINAL_URLS, strict=True):
        link = f'<a href="http://testserver{html.escape(path)}">{html.escape(url)}</a>'
        assert link in markup
    assert "A &lt;b&gt;call&lt;/b&gt;?" in markup and "<b>" not in markup
    assert markup.count("<p>") == 3 and "<br>" in markup
    assert '<img src="http://testserver/t/o/' in markup
    assert 'width="1" height="1" alt=""' in markup
    # One token per link, in the order of the body.
    assert len(set(wrapped)) == 3


def test_open_tracking_alone_links_the_original_addresses_and_adds_the_image(
    alice: User,
) -> None:
    run = sent_run(alice, tracked_sequence(alice, clicks=False, opens=True))
    text, markup = parts(run)
    assert "/t/c/" not in text and "/t/c/" not in markup
    for url in ORIGINAL_URLS:
        assert url in text
        assert f'<a href="{html.escape(url)}">{html.escape(url)}</a>' in markup
    assert "/t/o/" in markup


def test_cadency_own_addresses_in_a_body_are_left_alone(alice: User) -> None:
    body = (
        "Stop: http://testserver/u/abc:def/ or http://testserver/t/c/xyz/ "
        "but https://www.example.com/x is yours."
    )
    email = with_tracking(outgoing(alice, body), run_id=3, send_settings={"track_clicks": True})
    assert "http://testserver/u/abc:def/" in email.body
    assert "http://testserver/t/c/xyz/" in email.body
    assert "https://www.example.com/x" not in email.body


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        ("See https://example.com/a.", ["https://example.com/a"]),
        ("(see https://example.com/a)", ["https://example.com/a"]),
        ("https://en.example.org/wiki/A_(b)!", ["https://en.example.org/wiki/A_(b)"]),
        ('"https://example.com/q?x=1&y=2"', ["https://example.com/q?x=1&y=2"]),
        ("<https://example.com/x>", ["https://example.com/x"]),
        ("HTTP://EXAMPLE.COM/UP, http://x.test", ["HTTP://EXAMPLE.COM/UP", "http://x.test"]),
        ("ftp://example.com/f and https:// alone", []),
    ],
)
def test_links_are_found_without_the_sentence_around_them(text: str, urls: list[str]) -> None:
    assert [link.url for link in find_links(text)] == urls


def test_a_wrapped_message_parses_back_to_the_same_text_around_the_links(alice: User) -> None:
    email = with_tracking(outgoing(alice), run_id=9, send_settings={"track_clicks": True})
    parsed = message_from_bytes(message_bytes(email), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    body = parsed.get_body(("plain",))
    assert body is not None
    unwrapped = CLICK_URL.sub(
        lambda m: read_click_token(m.group(1).split("/")[3]).url, body.get_content()
    )
    assert unwrapped.replace("\r\n", "\n").startswith(BODY + "\n\n--\nTo stop these emails: ")
