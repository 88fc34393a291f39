"""Whether an LLM's answer rests on the facts it was given: every link, e-mail address,
phone number, price and other number must come from them (written any way people write
the same value), and the answer must state at least one fact the grounded answer states.
Also which passages an answer drew on, for its citations."""

import re

from agent_runtime.generation.base import Question
from agent_runtime.hours import HOURS_SOURCE
from agent_runtime.languages import customer_language, language_family, readable_by
from agent_runtime.prompts import HANDOFF_MARKER, PRICE, sums
from agent_runtime.retrieval import Passage
from agent_runtime.state import owner_turns
from katha.lang.script import count_letters

# What an answer was caught stating that no fact holds, or leaving out ("missing_fact": none
# of the facts the grounded answer states).
UNGROUNDED_KINDS = ("url", "email", "phone", "price", "number", "missing_fact")

_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>()\[\]\"']+"
    r"|\b(?:[a-z0-9-]+\.)+(?:com|lk|net|org|info|biz|io|co|me|app|store|shop|online|site|ly|gl"
    r"|to|be|tv|page|link)\b(?:/[^\s<>()\[\]\"']*)?",
    re.IGNORECASE,
)
# A Sri Lankan or international phone number: 9 to 14 digits, spaced or dashed as people do.
_PHONE = re.compile(r"(?<![\w+])\+?\d(?:[ -]?\d){8,13}(?!\w)")
_COUNTED = "one two three four five six seven eight nine ten".split()  # noqa: SIM905
_NUMBER_WORDS = {word: str(number) for number, word in enumerate(_COUNTED, start=1)}
# The markers the prompt asks the model to cite facts with: "[2]", "[hours]", "[W1]".
_CITATION = re.compile(r"\s*\[(\d+|W\d+|hours|owner|now|calc)\]", re.IGNORECASE)
_WORD = re.compile(r"\w{3,}")


def shares_a_fact(answer: str, grounded: str) -> bool:
    """Whether the model's answer states one of the facts (a number, link, phone number,
    e-mail address) the grounded answer states, when that states any: an answer with none
    of them, where the facts hold some, talks around the question (a 135M-parameter model,
    asked about Poya days, wrote of a "special account" and no hours)."""
    facts = stated_facts(grounded)
    return not facts or bool(facts & stated_facts(answer))


def hands_over(text: str) -> bool:
    """An empty answer, or the marker anywhere in it: small models add words around it, and
    the marker must never reach a customer."""
    return not text.strip() or re.search(rf"\b{HANDOFF_MARKER}\b", text) is not None


def written_in(text: str, language: str) -> bool:
    """Whether `text` is a reply in `language` as its reader expects it: Sinhala and Tamil
    mostly in their own script (a brand name in Latin letters is fine), Singlish and English
    in Latin letters only and told apart by the detector. The hard rule, never Sinhala
    script to a Tamil reader nor Tamil to a Sinhala one, holds for all."""
    if not readable_by(text, language):
        return False
    letters = count_letters(text)
    if language == "si":
        return letters.sinhala > 0 and 2 * letters.sinhala >= letters.latin
    if language == "ta":
        return letters.tamil > 0 and 2 * letters.tamil >= letters.latin
    if letters.sinhala or letters.tamil:
        return language == "en" and letters.latin > letters.sinhala + letters.tamil
    detected, _ = customer_language(text, None)
    return detected == "singlish" if language == "singlish" else detected != "singlish"


def evidence(question: Question) -> list[str]:
    """Everything the model was shown that a fact may be copied from."""
    texts = [question.text, question.now or "", question.business]
    texts.append(question.persona.instructions or "")
    texts += [p.text for p in question.passages]
    texts += [p.source_uri for p in question.passages]
    texts += [f"{r.url} {r.title} {r.snippet}" for r in question.web_results]
    texts += [turn.text for turn in owner_turns(question.history)]  # "ready at 5 pm"
    return texts


def derived(question: Question) -> set[str]:
    """The totals the prompt works out for the model (2 kg of a Rs. 2,600 cake)."""
    return {_canonical(str(total)) for _, _, total in sums(question)}


def ungrounded(
    text: str, sources: list[str], also: set[str] | frozenset[str] = frozenset()
) -> set[str]:
    """The kinds of fact ("url", "email", "phone", "price", "number") that `text` states
    and none of `sources` does; `also` are numbers known besides them (worked-out totals)."""
    known = "\n".join(sources)  # phone numbers never run across two sources
    plain_known = _plain_url(known)
    numbers = _numbers(known) | set(also)
    phones = {_phone(p) for p in _PHONE.findall(known)}
    kinds: set[str] = set()
    rest = text
    for email in _EMAIL.findall(rest):
        if email.casefold() not in known.casefold():
            kinds.add("email")
    rest = _EMAIL.sub(" ", rest)
    for url in _URL.findall(rest):
        if _plain_url(url).strip("/.,;:!?") not in plain_known:
            kinds.add("url")
    rest = _URL.sub(" ", rest)
    for phone in _PHONE.findall(rest):
        if _phone(phone) not in phones:
            kinds.add("phone")
    rest = _PHONE.sub(" ", rest)
    for match in PRICE.finditer(rest):
        if _canonical(match.group(1) or match.group(2)) not in numbers:
            kinds.add("price")
    rest = PRICE.sub(" ", rest)
    if unsupported_numbers(rest, [known], also):
        kinds.add("number")
    return kinds


def unsupported_numbers(
    text: str, evidence: list[str], also: set[str] | frozenset[str] = frozenset()
) -> set[str]:
    """Numbers in `text` that appear in none of `evidence` ("4,800" and "4800" are one, so
    are "6.30" and "6:30", "09:00" and "9", "two" and "2")."""
    known = set(also).union(*(_numbers(source) for source in evidence))
    return {number for number in _NUMBER.findall(text) if _canonical(number) not in known}


def _numbers(text: str) -> set[str]:
    """The numbers `text` states, each also as its parts (the hour of "09:00", and the
    12-hour clock's hour of "15:00"), and the small numbers it writes as words."""
    known: set[str] = set()
    for number in _NUMBER.findall(text):
        known.add(_canonical(number))
        if re.fullmatch(r"\d{1,2}[.:]\d{2}", number):
            hour = int(re.split(r"[.:]", number)[0])
            known.update({str(hour), str(hour - 12 if hour > 12 else hour)})
    words = re.findall(r"[a-z]+", text.casefold())
    known.update(_NUMBER_WORDS[word] for word in words if word in _NUMBER_WORDS)
    return known


def _canonical(number: str) -> str:
    whole, _, fraction = number.replace(",", "").replace(":", ".").partition(".")
    whole = whole.lstrip("0") or "0"
    return f"{whole}.{fraction}" if fraction.strip("0") else whole


def _phone(number: str) -> str:
    """A phone number as its national digits: "+94 77 123 4567" is "0771234567"."""
    digits = re.sub(r"\D", "", number)
    if digits.startswith("94") and len(digits) == 11:
        return "0" + digits[2:]
    return "0" + digits if len(digits) == 9 else digits


def _plain_url(text: str) -> str:
    return re.sub(r"https?://|www\.", "", text.casefold())


def stated_facts(text: str) -> set[str]:
    """The checkable facts `text` states, each written one way: links, e-mail addresses,
    phone numbers and numbers (prices among them), to compare two answers by."""
    emails = {email.casefold() for email in _EMAIL.findall(text)}
    rest = _EMAIL.sub(" ", text)
    urls = {_plain_url(url).strip("/.,;:!?") for url in _URL.findall(rest)}
    rest = _URL.sub(" ", rest)
    phones = {_phone(phone) for phone in _PHONE.findall(rest)}
    numbers = {_canonical(number) for number in _NUMBER.findall(_PHONE.sub(" ", rest))}
    return emails | urls | phones | numbers


def drew_on(text: str, passages: list[Passage], language: str) -> list[Passage]:
    """The passages an answer states facts from: those it cites ([2], [hours]); without
    citations, those sharing a number, link or address with it, those in the reply's
    `language` first (the same FAQ in two languages); else the one sharing the most words;
    all of them when it shares nothing we can see."""
    cited: list[Passage] = []
    for marker in (m.group(1).casefold() for m in _CITATION.finditer(text)):
        if marker.isdigit() and 0 < int(marker) <= len(passages):
            cited.append(passages[int(marker) - 1])
        elif marker == "hours":
            cited += [p for p in passages if p.source == HOURS_SOURCE]
    if cited:
        return list({id(p): p for p in cited}.values())
    stated = _numbers(_EMAIL.sub(" ", _URL.sub(" ", text)))
    sharing = [p for p in passages if stated & _numbers(p.text) - {"0", "1"}]
    if sharing:
        family = language_family(language)
        return sorted(sharing, key=lambda p: language_family(p.language) != family)
    words = {w.casefold() for w in _WORD.findall(text)}
    overlap = [len(words & {w.casefold() for w in _WORD.findall(p.text)}) for p in passages]
    if overlap and max(overlap) > 0:
        return [passages[overlap.index(max(overlap))]]
    return passages


def uncited(text: str) -> str:
    """The answer as the customer reads it: the fact numbers are for us, not for them."""
    return re.sub(r"[ \t]+([.,!?])", r"\1", _CITATION.sub("", text)).strip()
