"""Text normalisation for Sinhala, Tamil and Latin text, at index time and at query time."""

import re
import unicodedata

_HAL = "\u0dca"  # Sinhala al-lakuna (virama)
_ZWJ = "\u200d"
_ZWNJ = "\u200c"
_SINHALA_CONSONANTS = "\u0d9a-\u0dc6"
_KEEP_FORMAT = frozenset({_ZWJ, _ZWNJ})

# A hal never starts a word, so "ප ් ර" is always a broken "ප්‍ර".
_SPACE_BEFORE_HAL = re.compile(rf"([{_SINHALA_CONSONANTS}])[ \t]+{_HAL}")
# Legacy fonts had no ZWJ, so rakaransaya/yansaya were typed as hal + space + ra/ya. The
# match starts at the consonant, not at the start of its word: a lazy `\S*?` prefix made
# every failed start rescan the word, quadratic on a long run like "ක්ක්ක්…".
_HAL_SPACE_RA_YA = re.compile(rf"([{_SINHALA_CONSONANTS}]){_HAL}[ \t]+([\u0dba\u0dbb]\S*)")
# Consonants that commonly end a Sinhala word ("මෝටර් රථ", "ගුවන් යානා", "යම් යම්"): after
# these, hal + space + ra/ya is usually a real word break, so it is joined only when the
# next token cannot stand alone. Measured on FLoRes and Dakshina: the other consonants
# (ප, ද, ජ, ශ, ව, ග, ...) are followed by a space inside broken conjuncts almost only.
_WORD_FINAL = frozenset("නමතකසරලටඩණළ")
# A lone "ය"/"ර" (with at most a vowel sign) or a "යය…"/"රය…" remnant is not a word.
_BOUND_REMNANT = re.compile(
    r"[\u0dba\u0dbb](?:[\u0dcf-\u0ddf]|[\u0dba\u0dbb])?(?:[^\u0d80-\u0dff]|$)"
)
_WHITESPACE = re.compile(r"\s+")
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalize(text: str, *, keep_newlines: bool = False) -> str:
    """Return `text` in NFC with legacy Sinhala spellings repaired and stray characters removed.

    Whitespace collapses to single spaces; with `keep_newlines`, line breaks survive and
    runs of blank lines become one paragraph break. Emoji (and ZWJ emoji sequences) stay.
    The result is a fixed point: `normalize(normalize(t)) == normalize(t)`.
    """
    previous = None
    while text != previous:
        previous = text
        text = _normalize_once(text, keep_newlines=keep_newlines)
    return text


def _normalize_once(text: str, *, keep_newlines: bool) -> str:
    text = unicodedata.normalize("NFC", text)
    text = _drop_invisible(text)
    if keep_newlines:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        text = _HORIZONTAL_SPACE.sub(" ", text)
        text = "\n".join(line.strip() for line in text.split("\n"))
        text = _BLANK_LINES.sub("\n\n", text).strip()
    else:
        text = _WHITESPACE.sub(" ", text).strip()
    text = _SPACE_BEFORE_HAL.sub(rf"\1{_HAL}", text)
    return _HAL_SPACE_RA_YA.sub(_join_conjunct, text)


def _join_conjunct(match: re.Match[str]) -> str:
    consonant, after = match.group(1), match.group(2)
    start = match.start()
    # A consonant that opens its word cannot end a word: the hal belongs to a conjunct.
    word_start = start == 0 or match.string[start - 1].isspace()
    broken = (
        word_start
        or consonant not in _WORD_FINAL
        or _BOUND_REMNANT.match(after) is not None
        or after[:2] in ("\u0dba\u0dba", "\u0dbb\u0dba")
    )
    separator = _ZWJ if broken else " "
    return f"{consonant}{_HAL}{separator}{after}"


def _drop_invisible(text: str) -> str:
    kept: list[str] = []
    for index, char in enumerate(text):
        if char in "\t\n\r":
            kept.append(char)
            continue
        category = unicodedata.category(char)
        if category == "Cc":
            continue
        if category == "Cf":
            if char in _KEEP_FORMAT and _joins_inside_cluster(text, index):
                kept.append(char)
            elif 0xE0020 <= ord(char) <= 0xE007F:
                kept.append(char)  # emoji tag sequences (subdivision flags)
            continue
        kept.append(char)
    return "".join(kept)


def _joins_inside_cluster(text: str, index: int) -> bool:
    """ZWJ/ZWNJ mean something only between two Sinhala/Tamil characters or two emoji."""
    if index == 0 or index == len(text) - 1:
        return False
    before, after = text[index - 1], text[index + 1]
    if _script_block(before) is not None and _script_block(before) == _script_block(after):
        return True
    return text[index] == _ZWJ and _is_emoji_part(before) and _is_emoji_part(after)


def _script_block(char: str) -> str | None:
    code = ord(char)
    if 0x0D80 <= code <= 0x0DFF:
        return "sinhala"
    if 0x0B80 <= code <= 0x0BFF:
        return "tamil"
    return None


def _is_emoji_part(char: str) -> bool:
    code = ord(char)
    if code == 0xFE0F or 0x1F3FB <= code <= 0x1F3FF:  # variation selector, skin tones
        return True
    return code >= 0x2000 and unicodedata.category(char) == "So"
