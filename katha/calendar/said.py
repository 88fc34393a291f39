"""Times and dates as Sri Lankans write them, in English, Singlish, Sinhala and Tamil.

A time is a 12-hour clock with the part of the day: "6.30 am", "12 noon" and "8.30 pm" in
English and Singlish (a dot, not a colon, and no ".00" on the hour), "උදේ 6.30" and "රාත්‍රී 8.30" in
Sinhala, "காலை 6.30" and "இரவு 8.30" in Tamil. A date names the weekday and month in the
reader's language: "Friday 1 May 2026", "2026 මැයි 1 සිකුරාදා", "2026 மே 1 வெள்ளிக்கிழமை".
"""

from datetime import date

DAY_MINUTES = 24 * 60
# "රාත්‍රී" (night) keeps its zero-width joiner: without it the conjunct falls apart.
_NIGHT_SI = "\u0dbb\u0dcf\u0dad\u0dca\u200d\u0dbb\u0dd3"
# The parts of a day, from the hour each starts: (start hour, Sinhala, Tamil).
_PARTS = (
    (0, _NIGHT_SI, "இரவு"),
    (4, "උදේ", "காலை"),
    (12, "දහවල්", "மதியம்"),
    (15, "සවස", "மாலை"),
    (19, _NIGHT_SI, "இரவு"),
)
_MIDNIGHT = {
    "en": "midnight",
    "singlish": "midnight",
    "si": "මධ්\u200dයම " + _NIGHT_SI + " 12",
    "ta": "நள்ளிரவு 12",
}
DAY_NAMES = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "si": ("සඳුදා", "අඟහරුවාදා", "බදාදා", "බ්\u200dරහස්පතින්දා", "සිකුරාදා", "සෙනසුරාදා", "ඉරිදා"),
    "singlish": ("Sanduda", "Angaharuwada", "Badada", "Brahaspathinda", "Sikurada",
                 "Senasurada", "Irida"),
    "ta": ("திங்கட்கிழமை", "செவ்வாய்க்கிழமை", "புதன்கிழமை", "வியாழக்கிழமை", "வெள்ளிக்கிழமை",
           "சனிக்கிழமை", "ஞாயிற்றுக்கிழமை"),
}  # fmt: skip
_ENGLISH_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
                   "September", "October", "November", "December")  # fmt: skip
MONTH_NAMES = {
    "en": _ENGLISH_MONTHS,
    "singlish": _ENGLISH_MONTHS,
    "si": ("ජනවාරි", "පෙබරවාරි", "මාර්තු", "අප්\u200dරේල්", "මැයි", "ජූනි", "ජූලි", "අගෝස්තු",
           "සැප්තැම්බර්", "ඔක්තෝබර්", "නොවැම්බර්", "දෙසැම්බර්"),
    "ta": ("ஜனவரி", "பெப்ரவரி", "மார்ச்", "ஏப்ரல்", "மே", "ஜூன்", "ஜூலை", "ஆகஸ்ட்",
           "செப்டெம்பர்", "ஒக்டோபர்", "நவம்பர்", "டிசம்பர்"),
}  # fmt: skip
# From one time to another: "9 am to 1 pm", "උදේ 9 සිට දහවල් 1 දක්වා".
_SPAN = {
    "en": "{open} to {close}",
    "singlish": "{open} idan {close} wenakan",
    "si": "{open} සිට {close} දක්වා",
    "ta": "{open} முதல் {close} வரை",
}


def _language(language: str) -> str:
    return language if language in DAY_NAMES else "en"


def said_time(minute: int, language: str) -> str:
    """Minute `minute` of a day (0 and 1440 are midnight) as the reader writes the time."""
    language = _language(language)
    if minute % DAY_MINUTES == 0:
        return _MIDNIGHT[language]
    hour, minutes = divmod(minute, 60)
    clock = str(hour % 12 or 12) + (f".{minutes:02d}" if minutes else "")
    if language in {"en", "singlish"}:
        return "12 noon" if minute == 12 * 60 else f"{clock} {'am' if hour < 12 else 'pm'}"
    part = next(part for part in reversed(_PARTS) if hour >= part[0])
    return f"{part[1] if language == 'si' else part[2]} {clock}"


def said_span(open_minute: int, close_minute: int, language: str) -> str:
    """One opening, "6.30 am to 12 pm", in the reader's language."""
    language = _language(language)
    return _SPAN[language].format(
        open=said_time(open_minute, language), close=said_time(close_minute, language)
    )


def said_weekday(day: date, language: str) -> str:
    return DAY_NAMES[_language(language)][day.weekday()]


def said_date(day: date, language: str, weekday: bool = True) -> str:
    """A date with its weekday (unless `weekday` is False), in the reader's language."""
    language = _language(language)
    month = MONTH_NAMES[language][day.month - 1]
    name = said_weekday(day, language) if weekday else ""
    if language == "en":
        return f"{name} {day.day} {month} {day.year}".strip()
    return f"{day.year} {month} {day.day} {name}".strip()
