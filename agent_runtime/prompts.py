"""The LLM's instructions: persona, the retrieved facts (and what the owner told this customer),
and the rule to answer only from them, in the customer's language and script, citing them."""

import re

from agent_runtime.generation.arithmetic import asked_count
from agent_runtime.generation.base import Question
from agent_runtime.hours import HOURS_SOURCE
from agent_runtime.state import owner_turns
from katha.api.business import Persona

# The model says exactly this when the facts do not hold the answer; the agent hands over.
HANDOFF_MARKER = "HANDOFF"

LANGUAGE_NAMES = {
    "en": "English",
    "si": "Sinhala, in Sinhala script",
    "singlish": "Singlish: Sinhala typed in Latin letters, the way Sri Lankans text",
    "ta": "Tamil, in Tamil script",
}

# How each language is written: the script is what a customer notices first.
LANGUAGE_RULES = {
    "si": " Use Sinhala letters; never Tamil letters.",
    "singlish": ' Use Latin letters only, as in "butter cake eka Rs. 2,600 yi": never '
    "Sinhala letters.",
    "ta": " Use Tamil letters; never Sinhala letters.",
}

SYSTEM_PROMPT = """You are {name}, the WhatsApp assistant of {business}. Your tone is {tone}.
{instructions}{owner}
Answer only from these facts. Never state a price, time, date or fact that is not in them.
Copy prices, phone numbers, links and e-mail addresses exactly as the facts write them, and
never give one that they do not.
After each fact you use, put its number in brackets, like [2].
If the facts do not answer the question, reply with exactly {marker} and nothing else:
a person from {business} will then answer instead of you.
Reply in {language}.{script} Keep it short, as a WhatsApp message.

Facts:
{facts}"""

# Said only when the owner wrote in this conversation: their messages carry the name "owner".
OWNER_RULE = """
The owner of {business}, a person, also wrote to this customer: the messages named "owner" \
and the facts marked [owner] are their words. They are facts about this customer, newer \
than the others: never contradict them."""

# Prices as the knowledge writes them ("Rs. 2,600", "Price (Rs.): 2600", "2,600/=") and
# quantities a question asks for ("2 kg", "3 packs"): their products are worked out for the
# model, which small models get wrong, and accepted in its answer.
AMOUNT = r"\d[\d,]*(?:\.\d+)?"
PRICE = re.compile(
    rf"(?:\brs\.?|\blkr|රු\.?|ரூ\.?)\)?:?\s*({AMOUNT})"
    rf"|({AMOUNT})\s*(?:/=|/-|\brupees\b|\brs\b|\blkr\b|\brupiyal|රුපියල්|ரூபாய்)",
    re.IGNORECASE,
)
MAX_SUMS = 4  # worked-out totals shown to the model: those of the top passage's prices

TRANSLATE_PROMPT = """Translate the user's message into {language}.
Keep every number, price, time and name exactly as written. Reply with the translation only."""


def system_prompt(question: Question) -> str:
    persona = question.persona
    facts = [
        f"[hours] {passage.text}"
        if passage.source == HOURS_SOURCE
        else f"[{number}] ({passage.source}, {passage.locator}) {passage.text}"
        for number, passage in enumerate(question.passages, start=1)
    ]
    if question.now:
        facts.append(f"[now] It is {question.now} at the business now.")
    facts += [
        f"[W{number}] (web: {result.url}) {result.title}: {result.snippet}"
        for number, result in enumerate(question.web_results, start=1)
    ]
    owner = owner_turns(question.history)
    facts += [f"[owner] {turn.text}" for turn in owner]
    facts += [
        f"[calc] {quantity} × Rs. {amount} = Rs. {total:,}"
        for quantity, amount, total in sums(question, MAX_SUMS)
    ]
    return SYSTEM_PROMPT.format(
        name=persona.name,
        business=question.business,
        tone=persona.tone.value,
        instructions=_instructions(persona),
        owner=OWNER_RULE.format(business=question.business) if owner else "",
        marker=HANDOFF_MARKER,
        language=LANGUAGE_NAMES.get(question.reply_language, "the customer's language"),
        script=LANGUAGE_RULES.get(question.reply_language, ""),
        facts="\n".join(facts) or "(none)",
    )


def translate_prompt(language: str) -> str:
    return TRANSLATE_PROMPT.format(language=LANGUAGE_NAMES.get(language, language))


def _instructions(persona: Persona) -> str:
    return (
        f"The business's own instructions: {persona.instructions}" if persona.instructions else ""
    )


def sums(question: Question, limit: int | None = None) -> list[tuple[int, str, int]]:
    """(quantity, unit price as written, total) for each count the question asks of an item
    the passages name ("3 shirts", "kalisam dekak": never a size, an age or a time, see
    `asked_count`) and each price they state (the first `limit`, from the top passage)."""
    passages = question.passages[:1] if limit is not None else question.passages
    items = [PRICE.sub(" ", line) for p in passages for line in p.text.splitlines()]
    counted = (asked_count(question.text, item) for item in items if item.strip())
    quantities = sorted({count for count in counted if count is not None})
    if not quantities:
        return []
    amounts = [
        (match.group(1) or match.group(2)).rstrip(",")
        for passage in passages
        for match in PRICE.finditer(passage.text)
    ]
    found = [
        (quantity, amount, round(quantity * float(amount.replace(",", ""))))
        for quantity in quantities
        for amount in dict.fromkeys(amounts)
    ]
    return found[:limit] if limit is not None else found
