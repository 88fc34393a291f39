"""Opening hours, as the owner set them in `spec.hours`: "are you open now?", "open on
Sunday?", "open on Vesak Poya?", "when is the next Poya?" answered from them, in the
customer's language.

Rules, like the intents: a question about opening or closing (or about when a holiday
is) is recognised by its words in English, Singlish, Sinhala and Tamil, and the answer is
composed from the hours, the holiday calendar and the business's local clock, so it is
right to the minute without a model. Times are written the Sri Lankan way ("6.30 am",
"උදේ 6.30", "காலை 6.30"); a holiday from a year not yet gazetted is said to be "expected",
and past the calendar's years no holiday is guessed. The LLM is also given the hours (and
whether the business is open now, and the coming holidays that change them) as a fact, for
the questions these words do not catch. The owner's note is said with the hours only when
it is written in a script the customer reads: never Sinhala script to a Tamil speaker.
"""

import re
from datetime import date, datetime, timedelta

from agent_runtime.retrieval import Passage
from katha.api.hours import WEEKDAYS, Interval, OpeningHours, closes_at, is_open, next_opening
from katha.calendar import Holiday, HolidayRule, lanka
from katha.calendar.asked import asked_holiday, asks_when
from katha.calendar.said import DAY_MINUTES, said_date, said_span, said_time, said_weekday

HOURS_SOURCE = "hours"

# Latin words are whole words; Sinhala and Tamil stems are substrings (their vowel signs
# are not word characters to a regular expression, and words take suffixes).
_LATIN_WORDS = (
    "open", "opens", "opened", "opening", "close", "closes", "closed", "closing", "hours",
    "arinne", "arinna", "arinawa", "arinawada", "arinneda", "arala", "aralada", "arinnada",
    "wahanne", "wahanna", "wahanawa", "wahanawada", "wahanneda", "wahala", "wahalada",
)  # fmt: skip
_SCRIPT_STEMS = (
    "විවෘත", "අරින", "ඇරල", "ඇරෙන", "ඇරිය", "වහන", "වහල", "වසා",
    "திறந்", "திறக்", "திறப்", "மூடு", "மூடப்", "மூடி", "வேலை நேரம்",
)  # fmt: skip
_ASKS = re.compile(
    r"(?<![a-z])(" + "|".join(_LATIN_WORDS) + r")(?![a-z])|" + "|".join(_SCRIPT_STEMS)
)
# The days a customer names, in datetime.weekday() order, and "tomorrow".
_DAY_WORDS: tuple[tuple[str, ...], ...] = (
    ("monday", "sanduda", "සඳුදා", "திங்க"),
    ("tuesday", "angaharuwada", "අඟහරුවාදා", "செவ்வாய்"),
    ("wednesday", "badada", "බදාදා", "புதன்"),
    ("thursday", "brahaspathinda", "brahaspatinda", "බ්රහස්පතින්දා", "வியாழ"),
    ("friday", "sikurada", "සිකුරාදා", "வெள்ளி"),
    ("saturday", "senasurada", "සෙනසුරාදා", "சனி"),
    ("sunday", "irida", "iridha", "ඉරිදා", "ஞாயிறு", "ஞாயிற்"),
)
_TOMORROW = ("tomorrow", "heta", "හෙට", "நாளை")
_JOINERS = re.compile("[\u200c\u200d]")  # ZWJ/ZWNJ: "බ්‍ර" is typed with and without
_SINHALA = re.compile("[\u0d80-\u0dff]")
_TAMIL = re.compile("[\u0b80-\u0bff]")
# How far ahead the LLM's fact lists the holidays that change the hours.
_FACT_DAYS = 90

_SAID: dict[str, dict[str, str]] = {
    "today": {"en": "Today", "si": "අද", "singlish": "Ada", "ta": "இன்று"},
    "tomorrow": {"en": "Tomorrow", "si": "හෙට", "singlish": "Heta", "ta": "நாளை"},
    "expected": {"en": "expected", "si": "අපේක්ෂිත", "singlish": "expected",
                 "ta": "எதிர்பார்க்கப்படும்"},
    "open_now": {
        "en": "Yes, we're open now, until {time}.",
        "si": "ඔව්, අපි දැන් විවෘතයි, {time} දක්වා.",
        "singlish": "Ow, api dan open, {time} wenakan.",
        "ta": "ஆம், நாங்கள் இப்போது திறந்திருக்கிறோம், {time} வரை.",
    },
    "closed_now": {
        "en": "We're closed now.",
        "si": "අපි දැන් වසා ඇත.",
        "singlish": "Api dan close.",
        "ta": "நாங்கள் இப்போது மூடியிருக்கிறோம்.",
    },
    "opens": {
        "en": "We open {day} at {time}.",
        "si": "{day} {time}ට විවෘත කරනවා.",
        "singlish": "Api arinne {day} {time}.",
        "ta": "{day} {time} மணிக்கு திறப்போம்.",
    },
    "day_open": {
        "en": "{day}: open {times}.",
        "si": "{day} විවෘත වේලාව: {times}.",
        "singlish": "{day} open welawa: {times}.",
        "ta": "{day} திறந்திருக்கும் நேரம்: {times}.",
    },
    "day_closed": {
        "en": "{day}: closed.",
        "si": "{day} අපි වසා ඇත.",
        "singlish": "{day} api close.",
        "ta": "{day} நாங்கள் மூடியிருப்போம்.",
    },
    "holiday_on": {
        "en": "{name} is {date}.",
        "si": "{name} යෙදී ඇත්තේ {date}.",
        "singlish": "{name} thiyenne {date}.",
        "ta": "{name} {date} அன்று.",
    },
    "holiday_expected": {
        "en": "{name} is expected {date} (not yet gazetted).",
        "si": "{name} {date} යෙදෙනු ඇතැයි අපේක්ෂිතයි (තවම ගැසට් කර නැත).",
        "singlish": "{name} expected {date} (thama gazette karala na).",
        "ta": "{name} {date} அன்று எதிர்பார்க்கப்படுகிறது (இன்னும் வர்த்தமானியில் வெளியிடப்படவில்லை).",
    },
    "no_date": {
        "en": "We don't know the date of the next {name} yet.",
        "si": "ඊළඟ {name} දිනය අපි තවම දන්නේ නැහැ.",
        "singlish": "Ilanga {name} dawasa api thama danne na.",
        "ta": "அடுத்த {name} திகதி இன்னும் எங்களுக்குத் தெரியாது.",
    },
    "then_open": {
        "en": "We're open {times} that day.",
        "si": "එදින විවෘත වේලාව: {times}.",
        "singlish": "E dawase open welawa: {times}.",
        "ta": "அன்று திறந்திருக்கும் நேரம்: {times}.",
    },
    "then_closed": {
        "en": "We're closed that day.",
        "si": "එදින අපි වසා ඇත.",
        "singlish": "E dawase api close.",
        "ta": "அன்று நாங்கள் மூடியிருப்போம்.",
    },
    "rule_closed": {
        "en": "On {name} we're closed.",
        "si": "{name} දිනවල අපි වසා ඇත.",
        "singlish": "{name} dawaswala api close.",
        "ta": "{name} நாட்களில் நாங்கள் மூடியிருப்போம்.",
    },
    "rule_open": {
        "en": "On {name} we're open {times}.",
        "si": "{name} දිනවල විවෘත වේලාව: {times}.",
        "singlish": "{name} dawaswala open welawa: {times}.",
        "ta": "{name} நாட்களில் திறந்திருக்கும் நேரம்: {times}.",
    },
}  # fmt: skip
# What the group rules are called; a holiday's own name comes from the calendar.
_GROUP_NAMES: dict[str, dict[str, str]] = {
    "poya": {"en": "Poya", "si": "පෝය", "singlish": "poya", "ta": "போயா"},
    "public-holidays": {"en": "public holiday", "si": "රජයේ නිවාඩු", "singlish": "public holiday",
                        "ta": "பொது விடுமுறை"},
    "sinhala-tamil-new-year": {"en": "Sinhala and Tamil New Year", "si": "සිංහල හා දෙමළ අලුත් අවුරුදු",
                               "singlish": "Aluth awurudu", "ta": "சிங்கள தமிழ் புத்தாண்டு"},
}  # fmt: skip
# "We open {day}": English says "on Sunday" but "today"; the other languages need nothing.
_ON = {"en": "on {day}"}


def _folded(text: str) -> str:
    return _JOINERS.sub("", text.casefold())


def asks_about_hours(text: str) -> bool:
    """Whether a message asks when the business opens or closes, or when a holiday is."""
    if _ASKS.search(_folded(text)) is not None:
        return True
    return asked_holiday(text) is not None and asks_when(text)


def asked_day(text: str, today: date) -> date | None:
    """The day a message asks about ("tomorrow", "on Sunday": the next one, today if it is
    Sunday), or None: it asks about now."""
    folded = _folded(text)
    if any(_named(folded, word) for word in _TOMORROW):
        return today + timedelta(days=1)
    for weekday, words in enumerate(_DAY_WORDS):
        if any(_named(folded, _folded(word)) for word in words):
            return today + timedelta(days=(weekday - today.weekday()) % 7)
    return None


def _named(text: str, word: str) -> bool:
    if word.isascii():
        return re.search(rf"(?<![a-z]){word}(?![a-z])", text) is not None
    return word in text


def _say(key: str, language: str, **values: str) -> str:
    table = _SAID[key]
    return table.get(language, table["en"]).format(**values)


def _times(intervals: list[Interval], language: str) -> str:
    return ", ".join(said_span(i.open_minute, i.close_minute, language) for i in intervals)


def _clock(at: datetime, day: date, language: str) -> str:
    """The time of `at`; a closing at the next midnight is midnight, not the next day."""
    minute = at.hour * 60 + at.minute
    return said_time(DAY_MINUTES if at.date() > day and minute == 0 else minute, language)


def _day_word(day: date, today: date, language: str) -> str:
    if day == today:
        return _say("today", language)
    if day == today + timedelta(days=1):
        return _say("tomorrow", language)
    if day - today < timedelta(days=7):
        return said_weekday(day, language)
    return said_date(day, language)


def _holiday_label(holiday: Holiday, language: str) -> str:
    """ "Il Poya, 24 November 2026"; "Duruthu Poya, expected 22 January 2027"."""
    day = said_date(holiday.day, language, weekday=False)
    if holiday.provisional:
        day = f"{_say('expected', language)} {day}"
    return f"{holiday.said(language)}, {day}"


def _day_hours(hours: OpeningHours, day: date, today: date, language: str) -> str:
    word = _day_word(day, today, language)
    found = hours.holiday_on(day)
    if day in hours.closed_days:
        word = f"{word} ({said_date(day, language, weekday=False)})"
    elif found is not None and not found[0].usual:
        word = f"{word} ({_holiday_label(found[1], language)})"
    intervals = hours.intervals_on(day)
    if not intervals:
        return _say("day_closed", language, day=word)
    return _say("day_open", language, day=word, times=_times(intervals, language))


def _now(hours: OpeningHours, now: datetime, language: str) -> str:
    """Open until when, or closed and when it opens next."""
    if is_open(hours, now):
        closing = closes_at(hours, now)
        time = _clock(closing, now.date(), language) if closing else said_time(0, language)
        return _say("open_now", language, time=time)
    said = _say("closed_now", language)
    opening = next_opening(hours, now)
    if opening is None:
        return said
    day = _day_word(opening.date(), now.date(), language)
    if language in _ON and opening.date() > now.date() + timedelta(days=1):
        day = _ON[language].format(day=day)
    elif language in {"en", "singlish"}:
        day = day.lower()
    time = said_time(opening.hour * 60 + opening.minute, language)
    return f"{said} {_say('opens', language, day=day, time=time)}"


def _rule_name(rule: HolidayRule, language: str) -> str:
    if rule in _GROUP_NAMES:
        return _GROUP_NAMES[rule].get(language, _GROUP_NAMES[rule]["en"])
    return lanka().names[rule].said(language)


def _rule_hours(hours: OpeningHours, rule: HolidayRule, language: str) -> str | None:
    """What the owner's rules say of `rule`'s days when its date is not known: its own rule,
    else the group it belongs to; None when no rule of the owner's covers it."""
    names = lanka().names
    wider: list[str] = [rule]
    if rule in {"new-year-eve", "new-year-day"}:
        wider.append("sinhala-tamil-new-year")
    if rule == "poya" or (rule in names and names[rule].poya):
        wider.append("poya")
    wider.append("public-holidays")
    for candidate in dict.fromkeys(wider):
        for owner_rule in hours.holidays:
            if owner_rule.rule == candidate and not owner_rule.usual:
                name = _rule_name(rule, language)
                if not owner_rule.hours:
                    return _say("rule_closed", language, name=name)
                times = _times(owner_rule.hours, language)
                return _say("rule_open", language, name=name, times=times)
    return None


def _holiday(hours: OpeningHours, today: date, rule: HolidayRule, language: str) -> str:
    """When the next day `rule` names is, and the hours that day; never a guessed date."""
    holiday = lanka().next(rule, today)
    if holiday is None:
        said = _say("no_date", language, name=_rule_name(rule, language))
        return " ".join(filter(None, [said, _rule_hours(hours, rule, language)]))
    when = said_date(holiday.day, language)
    if holiday.day - today < timedelta(days=2):
        word = _day_word(holiday.day, today, language)
        when = f"{word.lower() if language in {'en', 'singlish'} else word}, {when}"
    elif language in _ON:
        when = _ON[language].format(day=when)
    key = "holiday_expected" if holiday.provisional else "holiday_on"
    said = _say(key, language, name=holiday.said(language), date=when)
    intervals = hours.intervals_on(holiday.day)
    if not intervals:
        return f"{said} {_say('then_closed', language)}"
    return f"{said} {_say('then_open', language, times=_times(intervals, language))}"


def readable_note(note: str | None, language: str) -> str | None:
    """The owner's note when the customer reads its script: Sinhala script only to Sinhala
    readers, Tamil only to Tamil readers, Latin letters to everyone."""
    if not note:
        return None
    if _SINHALA.search(note) and language != "si":
        return None
    if _TAMIL.search(note) and language != "ta":
        return None
    return note


def hours_answer(hours: OpeningHours, now: datetime, text: str, language: str) -> str:
    """The answer to an hours question; `now` is local to the business."""
    today = now.date()
    day = asked_day(text, today)
    if (rule := asked_holiday(text)) is not None:
        parts = [_holiday(hours, today, rule, language)]
    elif day is None or day == today:
        parts = [_now(hours, now, language), _day_hours(hours, today, today, language)]
    else:
        parts = [_day_hours(hours, day, today, language)]
    if note := readable_note(hours.note, language):
        parts.append(note)
    return " ".join(parts)


def _plain(intervals: list[Interval]) -> str:
    return ", ".join(f"{i.open}-{i.close}" for i in intervals) or "closed"


def _holiday_facts(hours: OpeningHours, today: date) -> list[str]:
    """The owner's holiday rules, and the coming days whose hours they change."""
    if not hours.holidays:
        return []
    rules = "; ".join(
        f"{rule.rule}: {'usual hours' if rule.usual else _plain(rule.hours)}"
        for rule in hours.holidays
    )
    changed = []
    for holiday in lanka().between(today, today + timedelta(days=_FACT_DAYS)):
        found = hours.holiday_on(holiday.day)
        if found is None or found[0].usual or found[1] != holiday:
            continue
        expected = " (expected, not yet gazetted)" if holiday.provisional else ""
        changed.append(
            f"{holiday.said('en')} {holiday.day:%A %Y-%m-%d}{expected}: "
            f"{_plain(hours.intervals_on(holiday.day))}"
        )
    years = ", ".join(str(year) for year in lanka().years)
    facts = [f"Holiday hours (Sri Lankan calendar for {years} only): {rules}."]
    if changed:
        facts.append(f"Coming holidays that change the hours: {'; '.join(changed)}.")
    return facts


def hours_facts(hours: OpeningHours, now: datetime) -> str:
    """The hours as one fact for the LLM, in English, with whether it is open now."""
    week = "; ".join(f"{name.title()} " + _plain(hours.weekly.get(name, [])) for name in WEEKDAYS)
    facts = [f"Opening hours: {week}."]
    facts += _holiday_facts(hours, now.date())
    upcoming = sorted(day for day in hours.closed_days if day >= now.date())
    if upcoming:
        facts.append(f"Closed all day on {', '.join(d.isoformat() for d in upcoming)}.")
    if hours.note:
        facts.append(f"Note: {hours.note}")
    facts.append(f"It is {now:%A %Y-%m-%d %H:%M} at the business now. {_now(hours, now, 'en')}")
    return " ".join(facts)


def hours_passage(hours: OpeningHours, now: datetime) -> Passage:
    """The hours as a passage: what the answer rests on (its source), and the LLM's fact."""
    return Passage(
        id=HOURS_SOURCE,
        source=HOURS_SOURCE,
        source_uri="spec:hours",
        locator="spec.hours",
        title="Opening hours",
        language="en",
        text=hours_facts(hours, now),
    )
