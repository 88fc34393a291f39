"""Opening hours, as the owner set them in `spec.hours`: "are you open now?", "what time do
you close today?", "open on Sunday?" answered from them, in the customer's language.

Rules, like the intents: a question about opening or closing is recognised by its words in
English, Singlish, Sinhala and Tamil, and the answer is composed from the hours and the
business's local clock, so it is right to the minute without a model. The LLM is also
given the hours (and whether the business is open now) as a fact, for the questions these
words do not catch. The owner's note is said with the hours only when it is written in a
script the customer reads: never Sinhala script to a Tamil speaker.
"""

import re
from datetime import date, datetime, timedelta

from agent_runtime.retrieval import Passage
from katha.api.hours import WEEKDAYS, OpeningHours, closes_at, is_open, next_opening

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

_DAY_NAMES = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "si": ("සඳුදා", "අඟහරුවාදා", "බදාදා", "බ්‍රහස්පතින්දා", "සිකුරාදා", "සෙනසුරාදා", "ඉරිදා"),
    "singlish": ("Sanduda", "Angaharuwada", "Badada", "Brahaspathinda", "Sikurada",
                 "Senasurada", "Irida"),
    "ta": ("திங்கட்கிழமை", "செவ்வாய்க்கிழமை", "புதன்கிழமை", "வியாழக்கிழமை", "வெள்ளிக்கிழமை",
           "சனிக்கிழமை", "ஞாயிற்றுக்கிழமை"),
}  # fmt: skip
_SAID: dict[str, dict[str, str]] = {
    "today": {"en": "Today", "si": "අද", "singlish": "Ada", "ta": "இன்று"},
    "tomorrow": {"en": "Tomorrow", "si": "හෙට", "singlish": "Heta", "ta": "நாளை"},
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
        "singlish": "{day} {time}ta arinawa.",
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
}
# "We open {day}": English says "on Sunday" but "today"; the other languages need nothing.
_ON = {"en": "on {day}"}


def _folded(text: str) -> str:
    return _JOINERS.sub("", text.casefold())


def asks_about_hours(text: str) -> bool:
    """Whether a message asks when the business opens or closes."""
    return _ASKS.search(_folded(text)) is not None


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


def _clock(at: datetime, day: date) -> str:
    """HH:MM; a closing at the next midnight is "24:00"."""
    if at.date() > day and at.hour == 0 and at.minute == 0:
        return "24:00"
    return at.strftime("%H:%M")


def _day_word(day: date, today: date, language: str) -> str:
    if day == today:
        return _say("today", language)
    if day == today + timedelta(days=1):
        return _say("tomorrow", language)
    name = _DAY_NAMES.get(language, _DAY_NAMES["en"])[day.weekday()]
    return name if day - today < timedelta(days=7) else f"{name} {day.isoformat()}"


def _day_hours(hours: OpeningHours, day: date, today: date, language: str) -> str:
    word = _day_word(day, today, language)
    if day in hours.closed_days:
        return _say("day_closed", language, day=f"{word} ({day.isoformat()})")
    intervals = hours.intervals_on(day)
    if not intervals:
        return _say("day_closed", language, day=word)
    times = ", ".join(f"{interval.open}–{interval.close}" for interval in intervals)
    return _say("day_open", language, day=word, times=times)


def _now(hours: OpeningHours, now: datetime, language: str) -> str:
    """Open until when, or closed and when it opens next."""
    if is_open(hours, now):
        closing = closes_at(hours, now)
        return _say("open_now", language, time=_clock(closing, now.date()) if closing else "24:00")
    said = _say("closed_now", language)
    opening = next_opening(hours, now)
    if opening is None:
        return said
    day = _day_word(opening.date(), now.date(), language)
    if language in _ON and opening.date() > now.date() + timedelta(days=1):
        day = _ON[language].format(day=day)
    elif language == "en":
        day = day.lower()
    return f"{said} {_say('opens', language, day=day, time=opening.strftime('%H:%M'))}"


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
    if day is None or day == today:
        parts = [_now(hours, now, language), _day_hours(hours, today, today, language)]
    else:
        parts = [_day_hours(hours, day, today, language)]
    if note := readable_note(hours.note, language):
        parts.append(note)
    return " ".join(parts)


def hours_facts(hours: OpeningHours, now: datetime) -> str:
    """The hours as one fact for the LLM, in English, with whether it is open now."""
    week = "; ".join(
        f"{name.title()} "
        + (", ".join(f"{i.open}-{i.close}" for i in hours.weekly.get(name, [])) or "closed")
        for name in WEEKDAYS
    )
    facts = [f"Opening hours: {week}."]
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
