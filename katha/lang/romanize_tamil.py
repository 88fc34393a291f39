"""Tamil to Latin letters, spelled the way people type Tanglish ("vanakkam", "nandri")."""

_CONSONANTS = {
    "க": "k", "ங": "ng", "ச": "s", "ஞ": "nj", "ட": "d", "ண": "n", "த": "th", "ந": "n",
    "ப": "p", "ம": "m", "ய": "y", "ர": "r", "ல": "l", "வ": "v", "ழ": "zh", "ள": "l",
    "ற": "r", "ன": "n", "ஜ": "j", "ஷ": "sh", "ஸ": "s", "ஹ": "h",
}  # fmt: skip
_VOWELS = {
    "அ": "a", "ஆ": "aa", "இ": "i", "ஈ": "ee", "உ": "u", "ஊ": "oo", "எ": "e", "ஏ": "ae",
    "ஐ": "ai", "ஒ": "o", "ஓ": "o", "ஔ": "au", "ஃ": "h", "ஂ": "m",
}  # fmt: skip
_VOWEL_SIGNS = {
    "ா": "aa", "ி": "i", "ீ": "ee", "ு": "u", "ூ": "oo", "ெ": "e", "ே": "ae", "ை": "ai",
    "ொ": "o", "ோ": "o", "ௌ": "au",
}  # fmt: skip
_PULLI = "\u0bcd"
# Doubled and nasal-led stops are how Tanglish spells Tamil's voicing rule: க is "k"
# when doubled or first, "g" between vowels and after a nasal ("thangam").
_VOICED = {"க": "k", "ச": "s", "ட": "d", "ப": "p"}
_DOUBLED = {"க": "kk", "ச": "ch", "ட": "tt", "த": "th", "ப": "pp", "ற": "tr"}
_NASAL_CLUSTERS = {
    ("ஞ", "ச"): "nj",
    ("ன", "ற"): "ndr",
    ("ண", "ட"): "nd",
    ("ந", "த"): "nth",
    ("ங", "க"): "ng",
}


def romanize_tamil(text: str) -> str:
    """Latin spelling of the Tamil letters in `text`; everything else is kept as it is."""
    out: list[str] = []
    length = len(text)
    index = 0
    while index < length:
        char = text[index]
        index += 1
        if char not in _CONSONANTS:
            out.append(_VOWELS.get(char, char))
            continue
        has_pulli = index < length and text[index] == _PULLI
        following = text[index + 1] if has_pulli and index + 1 < length else ""
        pair = (char, following)
        if has_pulli and pair in _NASAL_CLUSTERS:
            out.append(_NASAL_CLUSTERS[pair])
            index += 2
        elif has_pulli and following == char and char in _DOUBLED:
            out.append(_DOUBLED[char])
            index += 2
        else:
            out.append(_consonant(text, index - 1))
            if has_pulli:
                index += 1
                continue
        sign = text[index] if index < length else ""
        if sign in _VOWEL_SIGNS:
            out.append(_VOWEL_SIGNS[sign])
            index += 1
        elif sign != _PULLI:
            out.append("a")
        else:
            index += 1
    return "".join(out)


def _consonant(text: str, index: int) -> str:
    char = text[index]
    previous = text[index - 1] if index else ""
    following = text[index + 1] if index + 1 < len(text) else ""
    between_vowels = "\u0b82" <= previous <= "\u0bcc" and following != _PULLI
    if char in _VOICED and between_vowels:
        return _VOICED[char]
    return _CONSONANTS[char]
