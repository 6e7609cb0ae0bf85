# ruff: noqa: RUF001 - texts in many languages, in their own letters
import datetime as dt

import pytest
from pytest_django.fixtures import SettingsWrapper

from cadency.inbound.classifier.dates import find_return_date
from tests.inbound.classifier.helpers import classify, reply

# Wednesday 3 March 2027
SENT = dt.datetime(2027, 3, 3, 10, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "languages", "expected"),
    [
        ("I'm away this week, back on Monday 8 March.", ["en"], dt.date(2027, 3, 8)),
        ("I will return on 2027-03-15.", ["en"], dt.date(2027, 3, 15)),
        ("Ich bin ab dem 10.03. zurück am 12.03. im Büro.", ["de"], dt.date(2027, 3, 12)),
        ("Ich bin zurück am 09.03.2027.", ["de"], dt.date(2027, 3, 9)),
        ("Je serai de retour le 8 mars.", ["fr"], dt.date(2027, 3, 8)),
        ("Estaré de vuelta el martes 9 de marzo de 2027.", ["es"], dt.date(2027, 3, 9)),
        ("Rientrerò lunedì 15 marzo.", ["it"], dt.date(2027, 3, 15)),
        ("Retorno em 10/03/2027.", ["pt"], dt.date(2027, 3, 10)),
        ("Vanaf maandag 8 maart weer aanwezig.", ["nl"], dt.date(2027, 3, 8)),
        ("W biurze będę ponownie 17.03.2027.", ["pl"], dt.date(2027, 3, 17)),
        ("В офисе буду 19 марта.", ["ru"], dt.date(2027, 3, 19)),
        ("3月16日（火）以降に順次ご返信いたします。", ["ja"], dt.date(2027, 3, 16)),
        ("I am out of the office, returning 03/08/2027.", ["en"], dt.date(2027, 3, 8)),
        ("Away until Monday.", ["en"], dt.date(2027, 3, 8)),
        ("I'm back at my desk next Tuesday.", ["en"], dt.date(2027, 3, 9)),
        ("Jag är ledig till och med 12 mars.", ["sv"], dt.date(2027, 3, 15)),
        ("On leave 8-12 March.", ["en"], dt.date(2027, 3, 15)),
        (
            "I'm at a fair until Thursday 4 March, back in the office on Monday 8 March.",
            ["en"],
            dt.date(2027, 3, 8),
        ),
    ],
)
def test_it_reads_the_return_date(text: str, languages: list[str], expected: dt.date) -> None:
    assert find_return_date(text, SENT, languages=languages)[0] == expected


def test_a_date_in_the_past_is_ignored() -> None:
    assert find_return_date("Back on 1 March 2027.", SENT, languages=["en"]) == (None, "")


def test_a_date_beyond_the_horizon_is_ignored() -> None:
    text = "Back on 1 September 2027."
    assert find_return_date(text, SENT, horizon_days=60, languages=["en"])[0] is None
    assert find_return_date(text, SENT, horizon_days=200, languages=["en"])[0] == dt.date(
        2027, 9, 1
    )


def test_no_date_no_return_date() -> None:
    assert find_return_date("I am on parental leave.", SENT, languages=["en"])[0] is None


def test_an_auto_reply_carries_its_return_date_resolved_against_its_date_header() -> None:
    text = reply(
        "I am out of the office and will be back on Monday 8 March.",
        subject="Automatic reply: Quick question",
    )
    result = classify(text)
    assert result.return_date == dt.date(2027, 3, 8)
    assert any(r.startswith("return date 2027-03-08") for r in result.reasons)


def test_the_horizon_comes_from_settings(settings: SettingsWrapper) -> None:
    settings.CADENCY_RETURN_DATE_HORIZON_DAYS = 3
    text = reply("I am out of the office, back on 8 March.", subject="Out of Office")
    assert classify(text).return_date is None


def test_without_a_date_header_the_return_date_is_resolved_against_now() -> None:
    from cadency.inbound.classifier import classify_message
    from tests.inbound.classifier.helpers import crlf

    text = reply("I am out of the office, back on 8 March.", subject="Out of Office").replace(
        "Date: Wed, 3 Mar 2027 10:00:00 +0000\n", ""
    )
    result = classify_message(crlf(text), now=SENT)
    assert result.return_date == dt.date(2027, 3, 8)


def test_a_human_reply_has_no_return_date() -> None:
    result = classify(reply("Great, I'm back on 8 March - can we talk then?"))
    assert result.return_date is None
