"""Sinhala and Tamil to Latin letters, spelled the way people type Singlish and Tanglish."""

from katha.lang.romanize_tamil import romanize_tamil

_SINHALA_CONSONANTS = {
    "ක": "k", "ඛ": "k", "ග": "g", "ඝ": "g", "ඞ": "ng", "ඟ": "ng",
    "ච": "ch", "ඡ": "ch", "ජ": "j", "ඣ": "j", "ඤ": "gn", "ඥ": "gn", "ඦ": "nj",
    "ට": "t", "ඨ": "t", "ඩ": "d", "ඪ": "d", "ණ": "n", "ඬ": "nd",
    "ත": "th", "ථ": "th", "ද": "d", "ධ": "d", "න": "n", "ඳ": "nd",
    "ප": "p", "ඵ": "p", "බ": "b", "භ": "b", "ම": "m", "ඹ": "mb",
    "ය": "y", "ර": "r", "ල": "l", "ව": "w", "ශ": "sh", "ෂ": "sh", "ස": "s",
    "හ": "h", "ළ": "l", "ෆ": "f",
}  # fmt: skip
_SINHALA_VOWELS = {
    "අ": "a", "ආ": "a", "ඇ": "e", "ඈ": "e", "ඉ": "i", "ඊ": "i", "උ": "u", "ඌ": "u",
    "ඍ": "ru", "ඎ": "ru", "ඏ": "li", "ඐ": "li", "එ": "e", "ඒ": "e", "ඓ": "ai",
    "ඔ": "o", "ඕ": "o", "ඖ": "au",
}  # fmt: skip
# Long vowels are typed short ("kiyada" for කීයද, "mage" for මගේ): Singlish marks no length.
_SINHALA_VOWEL_SIGNS = {
    "ා": "a", "ැ": "e", "ෑ": "e", "ි": "i", "ී": "i", "ු": "u", "ූ": "u",
    "ෘ": "ru", "ෲ": "ru", "ෟ": "lu", "ෳ": "lu", "ෙ": "e", "ේ": "e", "ෛ": "ai",
    "ො": "o", "ෝ": "o", "ෞ": "au",
}  # fmt: skip
_SINHALA_SIGNS = {"ං": "n", "ඃ": "h", "ඁ": "n", "්": "", "෴": "."}
_HAL = "\u0dca"
_JOINERS = "\u200c\u200d"


def romanize(text: str) -> str:
    """Deterministic Latin spelling of Sinhala and Tamil text; other characters are kept.

    "කොහොමද" → "kohomada", "තියෙනවා" → "thiyenawa", "வணக்கம்" → "vanakkam". Meant for
    the romanised index column: pass it and the queries through `fold_romanized` too.
    """
    return romanize_tamil(_romanize_sinhala(text))


def _romanize_sinhala(text: str) -> str:
    out: list[str] = []
    length = len(text)
    index = 0
    while index < length:
        char = text[index]
        index += 1
        consonant = _SINHALA_CONSONANTS.get(char)
        if consonant is None:
            if char in _JOINERS:
                continue
            out.append(_standalone(char))
            continue
        out.append(consonant)
        while index < length and text[index] in _JOINERS:
            index += 1
        following = text[index] if index < length else ""
        if following == _HAL:
            index += 1
        elif following in _SINHALA_VOWEL_SIGNS:
            out.append(_SINHALA_VOWEL_SIGNS[following])
            index += 1
        else:
            out.append("a")
    return "".join(out)


def _standalone(char: str) -> str:
    """A character outside a consonant cluster: a vowel, a sign typed alone, or not Sinhala."""
    latin = _SINHALA_VOWELS.get(char) or _SINHALA_VOWEL_SIGNS.get(char)
    if latin is not None:
        return latin
    if char in _SINHALA_SIGNS:
        return _SINHALA_SIGNS[char]
    if "\u0de6" <= char <= "\u0def":  # Sinhala Lith digits
        return str(ord(char) - 0x0DE6)
    return char


# Sinhala's "ae" vowel (ැ, ෑ, and ඇ, ඈ standing alone) is spelled "e" above, and typed
# that way or as "a" about as often: of the Dakshina lexicon's typed spellings that write
# it one of the two ways, 44 % write "a" ("hatta" for හැට්ටය, "kamathi" for කැමති). Its
# vowel signs dropped, a consonant keeps its inherent "a".
_AE_AS_A = str.maketrans({"\u0dd0": "", "\u0dd1": "\u0dcf", "ඇ": "අ", "ඈ": "ආ"})


def romanize_ae_as_a(text: str) -> str:
    """`romanize(text)` with Sinhala's "ae" vowel spelled "a", as many people type it."""
    return romanize(text.translate(_AE_AS_A))
