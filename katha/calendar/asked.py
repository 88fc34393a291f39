"""Which holiday a customer's message names ("open on Vesak?", "poya dawase arinawada?",
"වෙසක් පෝයට ඇරලද?", "போயா தினத்தில் திறந்திருக்குமா?"), and whether it asks when.

Words, not a model: each holiday's names as people type them in English, Singlish,
Sinhala and Tamil. The narrowest name wins ("Vesak Poya" is Vesak, not any Poya). Latin
words are whole words; Sinhala and Tamil stems are substrings, as words take suffixes.
"""

import re

from katha.calendar.lanka import HolidayRule

# A Poya's own name counts only beside the word Poya ("il" alone is not a holiday).
_POYA_NAMES: dict[HolidayRule, tuple[str, ...]] = {
    "duruthu": ("duruthu", "durutu", "දුරුතු", "துருது"),
    "navam": ("navam", "nawam", "නවම්", "நவம்"),
    "medin": ("medin", "මැදින්", "மெதின்"),
    "bak": ("bak", "බක්", "பக்"),
    "adhi-poson": ("adhi poson", "adi poson", "අධි පොසොන්", "அதி பொசொன்"),
    "esala": ("esala", "äsala", "ඇසළ", "එසල", "எசல"),
    "nikini": ("nikini", "නිකිණි", "නිකිනි", "நிகினி"),
    "binara": ("binara", "බිනර", "பினர"),
    "vap": ("vap", "wap", "වප්", "வப்"),
    "il": ("il", "ඉල්", "இல்"),
    "unduvap": ("unduvap", "unduwap", "උඳුවප්", "உந்துவப்"),
}
_POYA = ("poya", "poyaday", "poho", "pohoya", "පෝය", "පොහොය", "போயா", "பௌர்ணமி", "full moon")
# Names that stand alone, narrowest first.
_NAMES: tuple[tuple[HolidayRule, tuple[str, ...]], ...] = (
    ("day-after-vesak", ("day after vesak", "vesak passe", "වෙසක් පසු", "வெசாக் அடுத்த")),
    ("vesak", ("vesak", "wesak", "vesak poya", "වෙසක්", "வெசாக்", "வெசக்")),
    ("poson", ("poson", "පොසොන්", "பொசொன்")),
    ("christmas", ("christmas", "xmas", "naththal", "nattal", "නත්තල්", "நத்தார்",
                   "கிறிஸ்துமஸ்")),
    ("good-friday", ("good friday", "maha sikurada", "මහ සිකුරාදා", "பெரிய வெள்ளி")),
    ("thai-pongal", ("pongal", "thai pongal", "පොංගල්", "பொங்கல்")),
    ("deepavali", ("deepavali", "diwali", "deepawali", "දීපවාලි", "தீபாவளி")),
    ("national-day", ("national day", "independence day", "nidahas dinaya", "ජාතික දින",
                      "නිදහස් දින", "தேசிய தின", "சுதந்திர தின")),
    ("may-day", ("may day", "මැයි දින", "மே தின")),
    ("id-ul-fitr", ("ramazan", "ramadan", "id-ul-fitr", "eid ul fitr", "රාමසාන්", "ரமழான்",
                    "நோன்புப் பெருநாள்")),
    ("id-ul-alha", ("hajj", "haj", "id-ul-alha", "eid ul adha", "හජ්", "ஹஜ்")),
    ("milad-un-nabi", ("milad", "milad-un-nabi", "nabi", "මීලාද්", "மீலாத்")),
    ("mahasivarathri", ("sivarathri", "shivaratri", "sivaratri", "සිවරාත්", "சிவராத்திரி")),
    ("sinhala-tamil-new-year", ("new year", "avurudu", "awurudu", "avurudda", "awurudda",
                                "අවුරුදු", "අවුරුද්ද", "புத்தாண்டு", "புது வருட")),
)  # fmt: skip
_HOLIDAYS = ("public holiday", "holiday", "holidays", "niwadu", "nivadu", "niwaadu",
             "නිවාඩු", "විවේක දින", "விடுமுறை")  # fmt: skip
_WHEN = ("when", "next", "what date", "which day", "which date", "kawada", "kawadda",
         "kawadada", "ilanga", "ilaga", "monada", "කවදා", "ඊළඟ", "ඊලඟ", "මොන දවසේ",
         "எப்போது", "எப்போ", "அடுத்த", "எந்த நாள்", "எந்த திகதி")  # fmt: skip
_JOINERS = re.compile("[\u200c\u200d]")


def _folded(text: str) -> str:
    return _JOINERS.sub("", text.casefold())


def _found(text: str, word: str) -> bool:
    word = _folded(word)
    if word.isascii():
        return re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", text) is not None
    return word in text


def _poya_name(text: str) -> HolidayRule | None:
    for rule, words in _POYA_NAMES.items():
        for word in words:
            for poya in _POYA:
                if _found(text, f"{word} {poya}") or _found(text, f"{word}{poya}"):
                    return rule
    return None


def asked_holiday(text: str) -> HolidayRule | None:
    """The holiday rule a message names, or None: it names no holiday."""
    folded = _folded(text)
    if (named := _poya_name(folded)) is not None:
        return named
    for rule, words in _NAMES:
        if any(_found(folded, word) for word in words):
            return rule
    if any(_found(folded, word) for word in _POYA):
        return "poya"
    if any(_found(folded, word) for word in _HOLIDAYS):
        return "public-holidays"
    return None


def asks_when(text: str) -> bool:
    """Whether a message asks when something is ("when is the next Poya?")."""
    folded = _folded(text)
    return any(_found(folded, word) for word in _WHEN)
