# ruff: noqa: RUF001 - words of many languages, in their own letters
"""The return date an auto-reply names ("back on Monday 3 March", "zurück am 03.03.",
"de retour le 3 mars", "2027-03-03", "3月3日"), resolved against the message's Date.

Only a sentence that talks about coming back (or being away until) is read. Numeric
dates, month names and weekdays of the supported languages are read here (fast);
anything else near a return cue goes to ``dateparser`` with the message's language.
Bounded: a date before the message, or beyond the horizon, is ignored (None).
"""

from __future__ import annotations

import datetime as dt
import re

MONTHS: dict[str, int] = {}
_MONTH_NAMES = {
    1: "january jan januari januar jänner janvier enero gennaio janeiro stycznia styczeń "
    "января январь ledna leden ocak",
    2: "february feb februari februar février fevrier febrero febbraio fevereiro lutego luty "
    "февраля февраль února únor şubat subat",
    3: "march mar märz maerz mars marzo março maart marca marzec марта март března březen mart",
    4: "april apr avril abril aprile kwietnia kwiecień апреля апрель dubna duben nisan",
    5: "may mai mayo maggio maio mei maja maj мая май května květen mayıs mayis",
    6: "june jun juni juin junio giugno junho czerwca czerwiec июня июнь června červen haziran",
    7: "july jul juli juillet julio luglio julho lipca lipiec июля июль července červenec temmuz",
    8: "august aug août aout agosto augustus augusti sierpnia sierpień августа август srpna "
    "srpen ağustos agustos",
    9: "september sep sept septembre septiembre settembre setembro września wrzesień сентября "
    "сентябрь září eylül eylul",
    10: "october oct oktober octobre octubre ottobre outubro oktober października październik "
    "октября октябрь října říjen ekim",
    11: "november nov novembre noviembre novembro listopada listopad ноября ноябрь listopadu "
    "kasım kasim",
    12: "december dec dezember décembre decembre diciembre dicembre dezembro grudnia grudzień "
    "декабря декабрь prosince prosinec aralık aralik",
}
for _number, _names in _MONTH_NAMES.items():
    for _name in _names.split():
        MONTHS[_name] = _number

WEEKDAYS: dict[str, int] = {}
_WEEKDAY_NAMES = {
    0: "monday montag lundi lunes lunedì lunedi segunda maandag poniedziałek poniedzialek "
    "понедельник понедельника måndag pondělí pondeli pazartesi",
    1: "tuesday dienstag mardi martes martedì martedi terça maandag dinsdag wtorek вторник "
    "вторника tisdag úterý utery salı sali",
    2: "wednesday mittwoch mercredi miércoles miercoles mercoledì mercoledi quarta woensdag "
    "środa sroda среда среду onsdag středa streda çarşamba carsamba",
    3: "thursday donnerstag jeudi jueves giovedì giovedi quinta donderdag czwartek четверг "
    "четверга torsdag čtvrtek ctvrtek perşembe persembe",
    4: "friday freitag vendredi viernes venerdì venerdi sexta vrijdag piątek piatek пятница "
    "пятницу fredag pátek patek cuma",
}
for _number, _names in _WEEKDAY_NAMES.items():
    for _name in _names.split():
        WEEKDAYS.setdefault(_name, _number)

_WORD = r"[^\W\d_]+"
# A sentence that says when the person is back: the date it names is the return date.
RETURN_CUE = re.compile(
    r"\b(?:back|return|returning|returns|resume|zurück|wieder|rückkehr|kehre|retour|"
    r"de vuelta|volvemos|volveré|regres\w*|rientr\w*|ritorno|di ritorno|retorno|de volta|"
    r"voltarei|terug|weer|wracam|ponownie|вернусь|буду|tillbaka|zpět|opět|ofiste|"
    r"döneceğim|available again|reachable again)\b|以降|より|戻|回来|返回|上班",
    re.I,
)
# A sentence that says until when the person is away.
UNTIL_CUE = re.compile(
    r"\b(?:until|till|through|thru|bis|jusqu\w*|hasta|fino|até|tot|do|до|по|kadar|"
    r"till och med)\b|まで|至",
    re.I,
)
THROUGH = re.compile(
    r"\b(?:through|thru|inclusive|including|till och med|t\.o\.m\.|включительно|einschließlich|"
    r"inclus|incluido|incluso|inclusief|tot en met|włącznie|compreso|inclusa)\b",
    re.I,
)

ISO = re.compile(r"\b(20\d\d)-(\d{1,2})-(\d{1,2})\b")
NUMERIC = re.compile(
    r"(?<![\d.:/])(\d{1,2})\s?([./])\s?(\d{1,2})(?:\s?\2\s?((?:20)?\d\d))?(?![\d:/])"
)
CJK = re.compile(r"(?:(20\d\d)年)?(\d{1,2})月(\d{1,2})日")
DAY_MONTH = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:\.|er|st|nd|rd|th)?\s*(?:de\s+|of\s+|'?(?:te|de)\s+)?({_WORD})\.?(?:\s+(?:de\s+)?(20\d\d))?",
    re.I,
)
MONTH_DAY = re.compile(rf"({_WORD})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(20\d\d))?", re.I)
RANGE = re.compile(
    rf"(\d{{1,2}})\.?\s*(?:[–—-]|to|bis|au|al|a|do|till|до|по)\s*(\d{{1,2}})\.?\s*({_WORD})", re.I
)
WEEKDAY = re.compile(rf"({_WORD})", re.I)


def _valid(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _with_year(month: int, day: int, year: int | None, base: dt.date) -> dt.date | None:
    if year is not None:
        return _valid(year if year > 100 else 2000 + year, month, day)
    found = _valid(base.year, month, day)
    if found is not None and found < base - dt.timedelta(days=1):
        found = _valid(base.year + 1, month, day)
    return found


def _next_weekday(weekday: int, base: dt.date) -> dt.date:
    days = (weekday - base.weekday()) % 7 or 7
    return base + dt.timedelta(days=days)


def _dates_in(sentence: str, base: dt.date, order: str) -> list[tuple[int, dt.date]]:
    """(position, date) of every date in a sentence."""
    found: list[tuple[int, dt.date]] = []
    for match in ISO.finditer(sentence):
        date = _valid(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if date:
            found.append((match.start(), date))
    for match in CJK.finditer(sentence):
        year = int(match.group(1)) if match.group(1) else None
        date = _with_year(int(match.group(2)), int(match.group(3)), year, base)
        if date:
            found.append((match.start(), date))
    for match in NUMERIC.finditer(sentence):
        if any(abs(match.start() - p) < 3 for p, _ in found):
            continue
        first, sep, second = int(match.group(1)), match.group(2), int(match.group(3))
        year = int(match.group(4)) if match.group(4) else None
        us = sep == "/" and order == "MD" and first <= 12
        month, day = (first, second) if us else (second, first)
        date = _with_year(month, day, year, base)
        if date:
            found.append((match.start(), date))
    for match in DAY_MONTH.finditer(sentence):
        named_month = MONTHS.get(match.group(2).lower())
        if named_month:
            named_year = int(match.group(3)) if match.group(3) else None
            date = _with_year(named_month, int(match.group(1)), named_year, base)
            if date:
                found.append((match.start(), date))
    for match in MONTH_DAY.finditer(sentence):
        named_month = MONTHS.get(match.group(1).lower())
        if named_month and not any(abs(match.start() - p) < 12 for p, _ in found):
            named_year = int(match.group(3)) if match.group(3) else None
            date = _with_year(named_month, int(match.group(2)), named_year, base)
            if date:
                found.append((match.start(), date))
    if not found:
        for match in WEEKDAY.finditer(sentence):
            weekday = WEEKDAYS.get(match.group(1).lower())
            if weekday is not None:
                found.append((match.start(), _next_weekday(weekday, base)))
                break
    found.sort(key=lambda item: item[0])
    return found


_SENTENCES = re.compile(r"(?<=[^\d\s][.!?])\s+|(?<=[。！])|\n+")
_LINE_BREAK = re.compile(r"(?<=[^\n])\n(?=[^\n])")
_CUE_AFTER_DATE = ("以降", "より", "戻", "回来", "返回", "上班")


def _next_working_day(date: dt.date) -> dt.date:
    date += dt.timedelta(days=1)
    while date.weekday() >= 5:
        date += dt.timedelta(days=1)
    return date


def _dateparser(snippet: str, base: dt.datetime, languages: list[str]) -> dt.date | None:
    """dateparser for what the tables above do not read (slow: only near a cue)."""
    try:
        import dateparser

        result = dateparser.parse(
            snippet,
            languages=languages or None,
            settings={"RELATIVE_BASE": base.replace(tzinfo=None), "PREFER_DATES_FROM": "future"},
        )
    except Exception:
        return None
    return result.date() if result else None


def _returning(sentence: str, today: dt.date, order: str) -> dt.date | None:
    """The date a 'back on …' sentence names: the first after the cue (or just before a
    cue that follows its date, as in Japanese and Chinese)."""
    cue = RETURN_CUE.search(sentence)
    if cue is None:
        return None
    dates = _dates_in(sentence, today, order)
    if not dates:
        return None
    if cue.group(0) in _CUE_AFTER_DATE:
        before = [date for position, date in dates if position < cue.start()]
        if before:
            return before[-1]
    after = [date for position, date in dates if position >= cue.start()]
    return after[0] if after else dates[-1][1]


def _until(sentence: str, today: dt.date, order: str) -> dt.date | None:
    """'away until X' → X; 'through X' → the working day after X; a range → the working
    day after its end."""
    cue = UNTIL_CUE.search(sentence)
    range_match = RANGE.search(sentence)
    if range_match and MONTHS.get(range_match.group(3).lower()):
        end = _with_year(
            MONTHS[range_match.group(3).lower()], int(range_match.group(2)), None, today
        )
        if end:
            return _next_working_day(end)
    if cue is None:
        return None
    dates = _dates_in(sentence, today, order)
    after = [date for position, date in dates if position >= cue.start()]
    if not after:
        before = [date for position, date in dates if position < cue.start()]
        if not before or cue.group(0) not in ("まで", "至"):
            return None
        after = before[-1:]
    if THROUGH.search(sentence):
        return _next_working_day(after[0])
    if len(dates) >= 2 and after[0] == dates[-1][1] and dates[0][1] < after[0]:
        return _next_working_day(after[0])  # from A until B: back after B
    return after[0]


def find_return_date(
    text: str,
    base: dt.datetime,
    *,
    horizon_days: int = 60,
    languages: list[str] | None = None,
) -> tuple[dt.date | None, str]:
    """(date, the sentence it came from) — (None, '') when no bounded date is named."""
    languages = languages or []
    order = "MD" if languages and set(languages) <= {"en", "ja", "zh"} else "DM"
    today = base.date()
    limit = today + dt.timedelta(days=horizon_days)

    def bounded(date: dt.date | None) -> dt.date | None:
        if date is None or date < today or date > limit:
            return None
        return date

    text = _LINE_BREAK.sub(" ", text[:4000])  # a sentence wrapped over lines is one sentence
    sentences = [s.strip() for s in _SENTENCES.split(text) if s.strip()]
    for reader in (_returning, _until):
        for sentence in sentences:
            date = bounded(reader(sentence, today, order))
            if date:
                return date, sentence[:80]
    for sentence in sentences:  # a cue with a date the tables cannot read
        cue = RETURN_CUE.search(sentence) or UNTIL_CUE.search(sentence)
        if cue and re.search(r"\d", sentence):
            snippet = sentence[cue.start() : cue.start() + 60]
            date = bounded(_dateparser(snippet, base, languages))
            if date:
                return date, sentence[:80]
    return None, ""
