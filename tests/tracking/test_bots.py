"""Who is a person: browsers and mail clients are; scanners, previews, prefetches, scripts
and anything within seconds of delivery are not. Image proxies open, but never click."""

import datetime as dt

import pytest

from cadency.tracking.bots import Hit, Kind, classify

DELIVERED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
LATER = DELIVERED + dt.timedelta(minutes=5)

PEOPLE = {
    "Chrome on a Mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Safari on an iPhone": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) "
    "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Firefox on Linux": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Outlook on Windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0 "
    "Microsoft Outlook 16.0.17328",
    "a Cubot phone": "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
}
MACHINES = {
    "Googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Skype preview": "SkypeUriPreview Preview/0.5",
    "headless Chrome": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) HeadlessChrome/129.0.0.0 Safari/537.36",
    "curl": "curl/8.5.0",
    "Go": "Go-http-client/2.0",
    "WhatsApp preview": "WhatsApp/2.23.20.0",
    "a crawler": "ExampleCrawler/1.0",
}


def hit(user_agent: str, *, method: str = "GET", purpose: str = "", at: dt.datetime = LATER) -> Hit:
    return Hit(method=method, user_agent=user_agent, purpose=purpose, at=at)


@pytest.mark.parametrize("agent", PEOPLE.values(), ids=PEOPLE.keys())
@pytest.mark.parametrize("kind", list(Kind))
def test_people_are_people(agent: str, kind: Kind) -> None:
    verdict = classify(hit(agent), kind=kind, delivered_at=DELIVERED, bot_seconds=10)
    assert verdict.human, verdict.reason


@pytest.mark.parametrize("agent", MACHINES.values(), ids=MACHINES.keys())
@pytest.mark.parametrize("kind", list(Kind))
def test_machines_are_machines(agent: str, kind: Kind) -> None:
    verdict = classify(hit(agent), kind=kind, delivered_at=DELIVERED, bot_seconds=10)
    assert not verdict.human
    assert verdict.reason.startswith("scanner or preview user agent")


def test_the_checks_say_which_one_decided() -> None:
    person = PEOPLE["Chrome on a Mac"]

    def reason(method: str = "GET", purpose: str = "", at: dt.datetime = LATER) -> str:
        made = hit(person, method=method, purpose=purpose, at=at)
        return classify(made, kind=Kind.CLICK, delivered_at=DELIVERED, bot_seconds=10).reason

    assert reason(method="HEAD") == "HEAD request"
    assert reason(purpose="preview") == "prefetch (preview)"
    assert reason(at=DELIVERED + dt.timedelta(seconds=9)) == "9 s after delivery"
    assert reason(at=DELIVERED - dt.timedelta(seconds=3)) == "0 s after delivery"
    assert reason(at=DELIVERED + dt.timedelta(seconds=10)) == ""


def test_with_zero_seconds_timing_never_decides() -> None:
    verdict = classify(
        hit(PEOPLE["Firefox on Linux"], at=DELIVERED),
        kind=Kind.CLICK,
        delivered_at=DELIVERED,
        bot_seconds=0,
    )
    assert verdict.human


def test_a_hit_before_delivery_was_recorded_is_a_machine() -> None:
    verdict = classify(
        hit(PEOPLE["Chrome on a Mac"]), kind=Kind.OPEN, delivered_at=None, bot_seconds=10
    )
    assert not verdict.human


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
        "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
    ],
)
def test_image_proxies_open_for_a_person_but_never_click(agent: str) -> None:
    assert classify(hit(agent), kind=Kind.OPEN, delivered_at=DELIVERED, bot_seconds=10).human
    click = classify(hit(agent), kind=Kind.CLICK, delivered_at=DELIVERED, bot_seconds=10)
    assert not click.human and click.reason.startswith("image proxy following a link")
