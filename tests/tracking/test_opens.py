"""The open image: always a 1x1 transparent GIF that no cache keeps; a person's open is
recorded at most once per email an hour and counted once per enrollment; machines not."""

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from cadency.accounts.models import User
from cadency.ledger.models import Event
from cadency.sequences.models import StepRun
from cadency.sequences.reports import performance
from cadency.tracking.tokens import make_open_token
from tests.sequences.pages import person
from tests.tracking.support import (
    CHROME,
    click,
    enrollment_of,
    open_path,
    sent_run,
    tracked_sequence,
)

pytestmark = pytest.mark.django_db

GMAIL_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)


@pytest.fixture
def alice() -> User:
    return person("alice")


@pytest.fixture
def run(alice: User) -> StepRun:
    return sent_run(alice, tracked_sequence(alice, clicks=False, opens=True))


def opens_counted(run: StepRun) -> int:
    [step] = performance(enrollment_of(run).sequence).steps
    return step.opened


def is_the_gif(response: Any) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert "no-store" in response["Cache-Control"]
    content = response.content
    assert content.startswith(b"GIF89a") and content[6:10] == b"\x01\x00\x01\x00", "1x1"


@pytest.mark.parametrize(
    "path",
    [
        "/t/o/junk.gif",
        "/t/o/MTI:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.gif",
        f"/t/o/{make_open_token(999999)}.gif",
    ],
    ids=["junk", "forged signature", "unknown run"],
)
def test_the_image_is_a_gif_even_for_a_bad_token_and_records_nothing(path: str) -> None:
    is_the_gif(Client().get(path))
    assert not Event.objects.exists()


def test_a_person_opening_is_recorded_once_an_hour_and_counted_once(run: StepRun) -> None:
    for _ in range(3):
        is_the_gif(click(open_path(run)))
    [event] = Event.objects.filter(kind="opened")
    assert event.data == {
        "position": 1,
        "run": run.pk,
        "user_agent": CHROME,
        "method": "GET",
        "human": True,
        "bot_reason": "",
    }
    assert event.sentence == "Jane Doe (jane@acme.test) opened the email of step 1."
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=61), tick=False):
        click(open_path(run))
    assert Event.objects.filter(kind="opened").count() == 2
    assert opens_counted(run) == 1


def test_gmail_showing_images_is_a_person_opening(run: StepRun) -> None:
    click(open_path(run), **{"User-Agent": GMAIL_PROXY})
    assert Event.objects.get(kind="opened").data["human"] is True
    assert opens_counted(run) == 1


@pytest.mark.parametrize(
    ("method", "headers", "reason"),
    [
        ("head", {}, "HEAD request"),
        ("get", {"Sec-Purpose": "prefetch"}, "prefetch (prefetch)"),
        ("get", {"User-Agent": "Barracuda Sentinel (EE)"}, "scanner or preview user agent"),
        ("get", {"User-Agent": ""}, "no user agent"),
    ],
)
def test_a_machine_loading_the_image_is_stored_but_not_counted(
    run: StepRun, method: str, headers: dict[str, str], reason: str
) -> None:
    response = click(open_path(run), method=method, **headers)
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    event = Event.objects.get(kind="opened_bot")
    assert event.data["bot_reason"].startswith(reason)
    assert "not counted as an open" in event.sentence
    assert opens_counted(run) == 0


def test_an_image_loaded_at_delivery_is_not_an_open(alice: User) -> None:
    run = sent_run(alice, tracked_sequence(alice, opens=True), seconds_ago=2)
    click(open_path(run))
    assert Event.objects.get(kind="opened_bot").data["bot_reason"] == "2 s after delivery"
    assert opens_counted(run) == 0


def test_machine_opens_do_not_hide_a_person_opening_later(run: StepRun) -> None:
    click(open_path(run), method="head")
    click(open_path(run))
    assert opens_counted(run) == 1
    assert Event.objects.filter(kind="opened_bot").count() == 1
