"""The LLM's instructions: persona, the retrieved facts (and what the owner told this customer),
and the rule to answer only from them."""

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

SYSTEM_PROMPT = """You are {name}, the WhatsApp assistant of {business}. Your tone is {tone}.
{instructions}{owner}
Answer only from these facts. Never state a price, time, date or fact that is not in them.
If the facts do not answer the question, reply with exactly {marker} and nothing else:
a person from {business} will then answer instead of you.
Reply in {language}. Keep it short, as a WhatsApp message.

Facts:
{facts}"""

# Said only when the owner wrote in this conversation: their messages carry the name "owner".
OWNER_RULE = """
The owner of {business}, a person, also wrote to this customer: the messages named "owner" \
and the facts marked [owner] are their words. They are facts about this customer, newer \
than the others: never contradict them."""

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
    return SYSTEM_PROMPT.format(
        name=persona.name,
        business=question.business,
        tone=persona.tone.value,
        instructions=_instructions(persona),
        owner=OWNER_RULE.format(business=question.business) if owner else "",
        marker=HANDOFF_MARKER,
        language=LANGUAGE_NAMES.get(question.reply_language, "the customer's language"),
        facts="\n".join(facts) or "(none)",
    )


def translate_prompt(language: str) -> str:
    return TRANSLATE_PROMPT.format(language=LANGUAGE_NAMES.get(language, language))


def _instructions(persona: Persona) -> str:
    return (
        f"The business's own instructions: {persona.instructions}" if persona.instructions else ""
    )
