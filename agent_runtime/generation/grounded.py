"""The built-in responder: no LLM, the answer is the business's own words.

What the owner told this customer, when it answers the question, comes first. Otherwise it
picks the best passage (in the customer's language when the knowledge has the same
fact in it), then the lines of it that match the question: an FAQ's answer verbatim, a
price row rendered readably, a menu line. Every fact it states is copied from a source.
"""

import re

from agent_runtime.generation.arithmetic import asked_amount
from agent_runtime.generation.base import Draft, Question
from agent_runtime.generation.parts import holds
from agent_runtime.generation.rows import read_row, row_cells, say_priced_line, say_row
from agent_runtime.generation.sentences import relevant_sentences
from agent_runtime.languages import language_family, readable_by
from agent_runtime.phrases import note_for, now_note, phrase
from agent_runtime.retrieval import Passage
from agent_runtime.state import owner_turns
from katha.api.business import Persona
from katha.lang import Language, fold_romanized, romanize
from katha.lang.script import count_letters

# A passage in the customer's language replaces a better one in another language when it
# is this close in similarity: the same fact, said in the customer's words.
SAME_FACT_MARGIN = 0.04
MAX_LINES = 3
# Words a question shares with what the owner told the customer for that to be the answer.
OWNER_MATCH_WORDS = 2
# How much one of a follow-up's own words counts in choosing a line, against one shared word.
FOCUS_WEIGHT = 10
_WORD = re.compile(r"[a-z]+|\d+")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
# Words every question carries; they say nothing about which line answers it.
_STOPWORDS = frozenset(
    [
        "what",
        "when",
        "where",
        "which",
        "who",
        "how",
        "much",
        "many",
        "the",
        "and",
        "for",
        "you",
        "your",
        "are",
        "is",
        "do",
        "does",
        "can",
        "have",
        "has",
        "with",
        "from",
        "this",
        "that",
        "there",
        "any",
        "price",
        "prices",
        "item",
        "rs",
        "kg",
        "eka",
        "ekak",
        "kiyada",
        "kiyak",
        "da",
        "thiyenawada",
        "thiyanawada",
        "puluwanda",
        "mokakda",
        "koheda",
        "kawadada",
        "oyage",
        "oyala",
        "api",
        "mata",
        "ona",
        "sinhala",
        "nama",
    ]
)


class GroundedResponder:
    """Composes answers from retrieved chunks; cannot invent what no chunk says."""

    @property
    def backend(self) -> str:
        return "grounded"

    def answer(self, question: Question) -> Draft | None:
        said = owner_answer(question)
        if said is not None:
            return said
        if not question.passages:
            return web_answer(question)
        family = language_family(question.reply_language)
        passage, lines = compose(question.passages, question.text, family, question.focus)
        text, language = said_for_people(passage, lines, question)
        if not _readable(text, question):
            # Never Sinhala script to a Tamil reader (nor Tamil to a Sinhala one): the
            # English twin, where the knowledge has one, else a person answers.
            passage, lines = compose(question.passages, question.text, "en", question.focus)
            text, language = said_for_people(passage, lines, question)
            if not _readable(text, question):
                return None
        if question.now:  # "open now?": the hours, and the time it is where the shop is
            text += "\n" + now_note(question.reply_language, question.now)
        return Draft(text, language, [passage], self.backend)

    def translate(self, draft: Draft, language: str, persona: Persona) -> Draft:
        """Without a model, Sinhala becomes Singlish by romanising; anything else gets a note."""
        if draft.language == language:
            return draft
        if language == "singlish" and draft.language == "si":
            return Draft(romanize(draft.text), "singlish", draft.used, draft.backend, draft.web)
        if language_family(language) == draft.language:
            return draft
        note = note_for(draft.language, language)
        text = f"{draft.text}\n{note}" if note else draft.text
        return Draft(text, draft.language, draft.used, draft.backend, draft.web)


def owner_answer(question: Question) -> Draft | None:
    """What the owner told this customer, repeated verbatim, when it answers the question:
    their newest note sharing two of its words (its only word, for a one-word question) and
    more of them than the best passage does.

    It is about this customer ("your cake will be ready at 5 pm") and newer than any
    source, so where it fits the question better it is the answer: never contradicted by
    a general FAQ. A question the knowledge fits as well ("the price of the chocolate cake"
    after "your chocolate cake is ready") keeps the knowledge's answer.
    """
    wanted = _words(question.text)
    if not wanted:
        return None
    known = len(wanted & _words(question.passages[0].text)) if question.passages else 0
    needed = max(min(OWNER_MATCH_WORDS, len(wanted)), known + 1)
    for turn in reversed(owner_turns(question.history)):
        if len(wanted & _words(turn.text)) >= needed:
            return Draft(turn.text, written_in(turn.text, turn.language), [], "grounded")
    return None


def web_answer(question: Question) -> Draft | None:
    """The best web result, quoted with its address: the web's words, never ours."""
    if not question.web_results:
        return None
    result = question.web_results[0]
    intro = phrase("web", question.reply_language, question.persona, question.business)
    text = f"{intro}\n{result.snippet}\n{result.url}"
    return Draft(text, language_family(question.reply_language), [], "grounded", [result])


def compose(
    passages: list[Passage], question: str, family: str, focus: tuple[str, ...] = ()
) -> tuple[Passage, list[str]]:
    """The lines that answer, from the top passage or its twin in the customer's language.

    A twin is a passage nearly as close to the question that states the same numbers on
    its lines (the Sinhala page of a bilingual menu, the Sinhala version of an FAQ): the
    same fact in the customer's words. Answers without numbers take a twin only from the
    same source, closer still, and sharing a word with the answer (a name such as "Visa"
    survives translation; an FAQ source also holds the FAQ about the address). A Tamil
    customer gets English before Sinhala.
    """
    top = passages[0]
    lines = excerpt(top, question, focus)
    answer_language = written_in("\n".join(lines), top.language)
    if language_family(answer_language) == family:
        return top, lines
    wanted = [numbers(line) for line in lines]
    said = _words("\n".join(lines))
    for language in dict.fromkeys([family, "en"]):
        if language_family(top.language) == language:
            break  # nothing in the top passage's own language is a better twin than it
        for passage in passages[1:]:
            if language_family(passage.language) != language:
                continue
            if all(wanted):
                if passage.similarity < top.similarity - SAME_FACT_MARGIN:
                    continue
                twins = [_twin(_body(passage), line_numbers) for line_numbers in wanted]
                if all(twin is not None for twin in twins):
                    return passage, [twin for twin in twins if twin is not None]
            elif (
                passage.source == top.source
                and passage.similarity >= top.similarity - SAME_FACT_MARGIN / 2
                and said & _words(passage.text)
            ):
                return passage, excerpt(passage, question, focus)
    return top, lines


def excerpt(passage: Passage, question: str, focus: tuple[str, ...] = ()) -> list[str]:
    """The part of a passage that answers: an FAQ's answer, or the lines the question names.

    A section's heading names what its lines are about ("Family Room" above "Rs. 26,000
    per night"), so its words count for every line below it; it is never the answer alone,
    and it comes along when it names what the question asked and the lines do not.
    """
    lines = _body(passage)
    if passage.locator.startswith("faq"):
        return lines
    wanted = _words(question)
    heading = _is_heading(passage, lines)
    about = wanted & _words(lines[0]) if heading else set()
    first = 1 if heading else 0
    scored = [
        (len(wanted & (_words(lines[index]) | about)) + _focus(lines[index], focus), index)
        for index in range(first, len(lines))
    ]
    best = sorted((item for item in scored if item[0] > 0), reverse=True)[:MAX_LINES]
    top_score = best[0][0] if best else 0
    chosen = sorted(index for score, index in best if score == top_score)
    if not chosen:
        return lines[: MAX_LINES + 3]
    picked = [lines[index] for index in chosen]
    named_above = about - set().union(*(_words(line) for line in picked))
    return [lines[0], *picked] if named_above else picked


def _readable(text: str, question: Question) -> bool:
    """Readable by the reply's reader and, where the customer wrote Sinhala or Tamil, by
    them too: a Tamil customer bridged to English gets no Sinhala script."""
    customer = language_family(question.customer_language)
    if customer in {"si", "ta"} and not readable_by(text, customer):
        return False
    return readable_by(text, question.reply_language)


def said_for_people(passage: Passage, lines: list[str], question: Question) -> tuple[str, str]:
    """The answer's text and its language: a spreadsheet row or priced menu lines said in
    a sentence frame of the reply's language; other lines as written, a paragraph cut to
    the sentences the question names."""
    reply, asked = question.reply_language, asked_amount(question.text)
    if passage.locator.startswith("sheet "):
        cells = next((found for line in reversed(lines) if (found := row_cells(line))), None)
        said = say_row(read_row(cells), reply, question.text, asked) if cells else None
        if said is not None:
            return said, reply
    framed = [say_priced_line(line, reply, asked) for line in lines]
    if framed and all(framed):
        return "\n".join(line for line in framed if line), reply
    if not passage.locator.startswith("faq"):
        wanted = _words(question.text)
        lines = [
            relevant_sentences(line, lambda part: len(wanted & _words(part))) for line in lines
        ]
    family = language_family(reply)
    text = "\n".join(render_row(line, family) for line in lines)
    language = family if _has_script(text, family) else written_in(text, passage.language)
    return text, language


def _focus(line: str, focus: tuple[str, ...]) -> int:
    """A follow-up's own words ("Samsung" of "and for Samsung?") outweigh all the words it
    borrowed from the previous question: the line about them is the answer."""
    return FOCUS_WEIGHT * sum(1 for word in focus if holds(line, word))


def render_row(line: str, family: str) -> str:
    """A table row as one readable line ("Fish bun: Price (Rs.) 120"), in the reply's script."""
    if " | " not in line:
        return line
    cells = [cell.strip() for cell in line.split(" | ") if cell.strip()]
    if family == "en":  # a Sinhala column ("සිංහල නම") means nothing to an English reader
        cells = [cell for cell in cells if _script(cell, "en") == "en"] or cells
    labelled = [cell.partition(": ") for cell in cells]
    if all(separator for _, separator, _ in labelled):
        name = labelled[0][2]
        rest = ", ".join(f"{label} {value}" for label, _, value in labelled[1:])
        return f"{name}: {rest}" if rest else name
    return f"{cells[0]}: {', '.join(cells[1:])}" if len(cells) > 1 else cells[0]


def written_in(text: str, default: str) -> str:
    """The language `text` is written in: "si" or "ta" by script; Latin text in the language
    its chunk was indexed in when that is written in Latin letters (an FAQ answered in
    Singlish is Singlish, not English), else English.
    """
    script = _script(text, default)
    if script != "en" or not count_letters(text).latin:
        return script
    return default if default in _LATIN_LANGUAGES else "en"


_LATIN_LANGUAGES = frozenset({Language.SINGLISH, Language.TANGLISH})


def _script(text: str, default: str) -> str:
    """ "si", "ta" or "en" (Latin letters) by which script most letters are in."""
    letters = count_letters(text)
    if letters.sinhala > letters.latin:
        return "si"
    if letters.tamil > letters.latin:
        return "ta"
    return "en" if letters.latin else language_family(default)


def _is_heading(passage: Passage, lines: list[str]) -> bool:
    """Whether the first line is the section heading the chunker repeats atop its chunks
    (the locator's fragment or the title names it)."""
    if len(lines) < 2:
        return False
    fragment = passage.locator.rpartition("#")[2] if "#" in passage.locator else None
    return lines[0] in (fragment, passage.title)


def _has_script(text: str, family: str) -> bool:
    letters = count_letters(text)
    return bool({"si": letters.sinhala, "ta": letters.tamil}.get(family, 0))


def numbers(text: str) -> set[str]:
    return {number.replace(",", "") for number in _NUMBER.findall(text)}


def _twin(lines: list[str], wanted: set[str]) -> str | None:
    matches = [line for line in lines if wanted <= numbers(line)]
    return min(matches, key=lambda line: len(numbers(line))) if matches else None


def _body(passage: Passage) -> list[str]:
    """A passage's lines, an FAQ's question line left out."""
    lines = [line.strip() for line in passage.text.split("\n") if line.strip()]
    return lines[1:] if passage.locator.startswith("faq") and len(lines) > 1 else lines


def _words(text: str) -> set[str]:
    folded = fold_romanized(romanize(text.casefold()))
    return {word for word in _WORD.findall(folded) if word not in _STOPWORDS and len(word) > 1}
