"""Following a tracked link: a person's click is counted once per enrollment and step and
leads to the original address; machines are stored but not counted; anything Cadency did
not put in that email leads nowhere (no open redirect) and records nothing."""

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.test import Client
from pytest_django.fixtures import SettingsWrapper

from cadency.accounts.models import User
from cadency.ledger.models import Event
from cadency.meetings.links_in_email import read_ref
from cadency.sequences.models import StepRun
from cadency.sequences.reports import performance
from cadency.tracking.tokens import ClickClaim, make_click_token, read_click_token
from tests.sequences.pages import client_for, person
from tests.tracking.support import (
    CHROME,
    ORIGINAL_URLS,
    click,
    click_paths,
    enrollment_of,
    sent_run,
    tracked_sequence,
)

pytestmark = pytest.mark.django_db

SCANNERS = {
    "Outlook.com link check": "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/534+ "
    "(KHTML, like Gecko) BingPreview/1.0b",
    "Office link probe": "Microsoft Office Existence Discovery",
    "Barracuda": "Barracuda Sentinel (EE)",
    "Proofpoint": "Mozilla/5.0 (compatible; Proofpoint URL Defense)",
    "Mimecast": "Mozilla/5.0 Mimecast-URL-Protect/1.0",
    "Gmail spam sampling": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/42.0.2311.135 Safari/537.36 Edge/12.246 Gmail-content-sampling",
    "Slack unfurl": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "a script": "python-requests/2.32.3",
    "no user agent": "",
}


@pytest.fixture
def alice() -> User:
    return person("alice")


@pytest.fixture
def run(alice: User) -> StepRun:
    return sent_run(alice, tracked_sequence(alice))


def clicks_counted(run: StepRun) -> int:
    [step] = performance(enrollment_of(run).sequence).steps
    return step.clicked


def test_a_click_redirects_to_the_original_address_and_is_recorded(run: StepRun) -> None:
    for path, url in zip(click_paths(run), ORIGINAL_URLS, strict=True):
        response = click(path)
        assert response.status_code == 302
        assert response["Location"] == url
        assert "no-store" in response["Cache-Control"]
    events = Event.objects.filter(kind="clicked").order_by("pk")
    assert [e.data["url"] for e in events] == ORIGINAL_URLS
    first = events[0]
    assert first.enrollment_id == run.enrollment_id
    assert first.data["position"] == 1 and first.data["run"] == run.pk
    assert first.data["human"] is True and first.data["user_agent"] == CHROME
    assert first.sentence == (
        f"Jane Doe (jane@acme.test) clicked {ORIGINAL_URLS[0]} in the email of step 1."
    )


def test_a_person_clicking_many_times_counts_once_in_performance(alice: User, run: StepRun) -> None:
    paths = click_paths(run)
    for path in [*paths, paths[0], paths[0]]:
        assert click(path).status_code == 302
    assert Event.objects.filter(kind="clicked").count() == 5, "every click is in the ledger"
    assert clicks_counted(run) == 1

    other = sent_run(alice, enrollment_of(run).sequence, email="omar@acme.test")
    click(click_paths(other)[2])
    assert clicks_counted(run) == 2


def test_the_performance_tab_shows_the_counted_opens_and_clicks(alice: User, run: StepRun) -> None:
    click(click_paths(run)[0])
    click(click_paths(run)[0], **{"User-Agent": SCANNERS["Barracuda"]})
    sequence = enrollment_of(run).sequence
    response = client_for(alice).get(f"/sequences/{sequence.pk}/performance/")
    [chart] = response.context["charts"]
    bars = {bar.key: (bar.count, bar.rate) for bar in chart.bars}
    assert bars["sent"] == (1, None) and bars["clicked"] == (1, 100.0)
    html = response.content.decode()
    assert "scanners, link previews and prefetches are recorded but not counted" in html
    assert "appear once link and open tracking record them" not in html


def test_without_tracking_the_performance_tab_says_how_to_turn_it_on(alice: User) -> None:
    sequence = tracked_sequence(alice, clicks=False, opens=False)
    html = client_for(alice).get(f"/sequences/{sequence.pk}/performance/").content.decode()
    assert "appear once link and open tracking record them (turn them on in Settings)" in html


@pytest.mark.parametrize("agent", SCANNERS.values(), ids=SCANNERS.keys())
def test_a_scanner_click_is_stored_but_not_counted(run: StepRun, agent: str) -> None:
    response = click(click_paths(run)[0], **{"User-Agent": agent})
    assert response.status_code == 302
    event = Event.objects.get(kind="clicked_bot")
    assert event.data["human"] is False and event.data["bot_reason"]
    assert "not counted as a click" in event.sentence
    assert not Event.objects.filter(kind="clicked").exists()
    assert clicks_counted(run) == 0


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Sec-Purpose": "prefetch"}, "prefetch"),
        ({"Sec-Purpose": "prefetch;prerender"}, "prefetch"),
        ({"Purpose": "prefetch"}, "prefetch"),
        ({"X-Moz": "prefetch"}, "prefetch"),
    ],
)
def test_a_prefetch_is_not_a_click(run: StepRun, headers: dict[str, str], reason: str) -> None:
    click(click_paths(run)[0], **headers)
    assert Event.objects.get(kind="clicked_bot").data["bot_reason"].startswith(reason)
    assert clicks_counted(run) == 0


def test_a_head_request_is_not_a_click(run: StepRun) -> None:
    response = click(click_paths(run)[0], method="head")
    assert response.status_code == 302
    assert Event.objects.get(kind="clicked_bot").data["bot_reason"] == "HEAD request"
    assert clicks_counted(run) == 0


def test_a_click_within_seconds_of_delivery_is_a_scanner_even_with_a_browser_agent(
    alice: User, settings: SettingsWrapper
) -> None:
    settings.CADENCY_TRACKING_BOT_SECONDS = 30
    run = sent_run(alice, tracked_sequence(alice), seconds_ago=12)
    click(click_paths(run)[0])
    assert Event.objects.get(kind="clicked_bot").data["bot_reason"] == "12 s after delivery"
    assert clicks_counted(run) == 0
    settings.CADENCY_TRACKING_BOT_SECONDS = 10
    click(click_paths(run)[0])
    assert clicks_counted(run) == 1


def test_an_image_proxy_following_a_link_is_not_a_person(run: StepRun) -> None:
    agent = (
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
    )
    click(click_paths(run)[0], **{"User-Agent": agent})
    assert clicks_counted(run) == 0


# --- links Cadency did not put in that email -------------------------------------------


def refused(response: Any) -> None:
    assert response.status_code == 400
    assert "Location" not in response
    assert "This link is not valid" in response.content.decode()
    assert not Event.objects.filter(kind__startswith="clicked").exists()


def token_of(path: str) -> str:
    return path.split("/")[3]


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: t[:-1],
        lambda t: t[: len(t) // 2],
        lambda t: t[:8] + ("x" if t[8] != "x" else "y") + t[9:],
        lambda t: t + "a",
        lambda t: "hello",
    ],
    ids=["truncated by one", "half", "altered", "extended", "unknown"],
)
def test_an_altered_truncated_or_unknown_token_leads_nowhere(
    run: StepRun, damage: Callable[[str], str]
) -> None:
    token = token_of(click_paths(run)[0])
    refused(Client().get(f"/t/c/{damage(token)}/"))


def test_a_token_for_another_run_does_not_work_for_this_one(alice: User, run: StepRun) -> None:
    other = sent_run(alice, tracked_sequence(alice, clicks=False), email="omar@acme.test")
    claim = read_click_token(token_of(click_paths(run)[0]))
    moved = make_click_token(ClickClaim(run_id=other.pk, index=claim.index, url=claim.url))
    refused(click(f"/t/c/{moved}/"))


def test_a_signed_url_that_is_not_in_the_email_leads_nowhere(run: StepRun) -> None:
    """Even a validly signed token (a leaked key, an old link format) must name a link of
    the email its run sent: the stored message is the second check."""
    forged = make_click_token(ClickClaim(run_id=run.pk, index=0, url="https://evil.example.net/"))
    refused(click(f"/t/c/{forged}/"))
    other_index = make_click_token(ClickClaim(run_id=run.pk, index=5, url=ORIGINAL_URLS[0]))
    refused(click(f"/t/c/{other_index}/"))


def test_a_run_that_sent_nothing_has_no_links(alice: User) -> None:
    token = make_click_token(ClickClaim(run_id=999999, index=0, url=ORIGINAL_URLS[0]))
    refused(click(f"/t/c/{token}/"))


def test_a_token_with_another_salt_leads_nowhere(run: StepRun) -> None:
    token = signing.Signer(salt="open").sign_object([run.pk, 0, ORIGINAL_URLS[0]], compress=True)
    refused(click(f"/t/c/{token}/"))


def test_only_get_and_head_are_answered(run: StepRun) -> None:
    response = Client().post(click_paths(run)[0])
    assert response.status_code == 405
    assert not Event.objects.filter(kind__startswith="click").exists()


def test_a_meeting_link_gets_its_enrollment_reference_before_it_is_wrapped(
    alice: User,
) -> None:
    body = "Pick a time: http://testserver/meet/alice/intro/ - see you."
    run = sent_run(alice, tracked_sequence(alice, body=body))
    [path] = click_paths(run)
    target = click(path)["Location"]
    assert target.startswith("http://testserver/meet/alice/intro/?ref=")
    [ref] = parse_qs(urlsplit(target).query)["ref"]
    assert read_ref(ref) == run.enrollment_id
