"""The graph's nodes: each reads the state and the tenant's context and returns what it changed."""

import time
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from langgraph.runtime import Runtime

from agent_runtime.clock import asks_about_now, local_time
from agent_runtime.context import Context
from agent_runtime.generation import Draft, Question
from agent_runtime.generation.frames import PART_UNANSWERED, frame
from agent_runtime.generation.llm import message_deadline
from agent_runtime.generation.parts import (
    holds,
    is_follow_up,
    leaning_word,
    new_words,
    question_parts,
    states_amount_of,
)
from agent_runtime.hours import asks_about_hours, hours_answer, hours_passage
from agent_runtime.intents import Intent, classify
from agent_runtime.knowledge import Snapshot
from agent_runtime.languages import customer_language, reply_language
from agent_runtime.phrases import greeting, phrase
from agent_runtime.retrieval import Passage, Retrieval, hybrid_search
from agent_runtime.state import State, Turn, owner_turns
from agent_runtime.websearch import WebSearchError
from katha.api.business import BusinessSpec
from katha.api.hours import OpeningHours
from katha.lang import normalize
from katha.observability import get_logger

log = get_logger("agent")
Update = dict[str, Any]
# Intents answered from the persona's own phrases, and those that go to a person.
_PERSONA_PHRASES = {Intent.THANKS: "thanks", Intent.OUT_OF_SCOPE: "out_of_scope"}
_HANDOFF_PHRASES = {Intent.HUMAN: "human", Intent.COMPLAINT: "complaint"}


def analyze_query(state: State, runtime: Runtime[Context]) -> Update:
    text = normalize(state.message)
    language = state.known_language or customer_language(text, state.previous_language)[0]
    persona = runtime.context.business.persona
    parts = question_parts(text, language)
    intent = _intent(text, runtime.context.business)
    if len(parts) > 1 and intent in {Intent.QUESTION, Intent.HOURS}:
        intent = Intent.QUESTION  # each part is answered on its own, hours included
    return {
        "message": text,
        "language": language,
        "reply_language": reply_language(language, persona),
        "intent": intent.value,
        "parts": parts if len(parts) > 1 else [],
        "history": [Turn("customer", text, language)],
    }


def _intent(text: str, business: BusinessSpec) -> Intent:
    """A question about opening hours is answered from them when the owner stated them;
    without, it stays a question for the knowledge, as before."""
    intent = classify(text)
    if intent is Intent.QUESTION and business.hours is not None and asks_about_hours(text):
        return Intent.HOURS
    return intent


def _follow_up(state: State) -> tuple[str, list[str]]:
    """For a short follow-up ("and for Samsung?") after a question, the previous question
    with the follow-up's own words, and those words; else the message and no words."""
    asked = [turn for turn in state.history if turn.role == "customer"][:-1]
    if not asked or not is_follow_up(state.message, state.language):
        return state.message, []
    words = new_words(state.message, state.language)
    return f"{asked[-1].text} {' '.join(words)}", words


def search_internal(state: State, runtime: Runtime[Context]) -> Update:
    context = runtime.context
    snapshot = context.knowledge.snapshot
    if snapshot is None:
        return {"passages": [], "enough": False, "confidence": 0.0}
    started = time.perf_counter()
    if state.parts:  # two questions in one: each searched on its own
        found = [_search(context, snapshot, part, state.language) for part in state.parts]
        context.metrics.retrieval_seconds.observe(time.perf_counter() - started)
        return {
            "passages": [passage for each in found for passage in each.passages],
            "enough": any(each.enough for each in found),
            "confidence": max(each.confidence for each in found),
            "part_passages": [each.passages for each in found],
            "part_enough": [each.enough for each in found],
        }
    query, focus = _follow_up(state)
    result = _search(context, snapshot, query, state.language)
    context.metrics.retrieval_seconds.observe(time.perf_counter() - started)
    passages, enough = result.passages, result.enough
    if focus:  # the follow-up's own words decide: passages holding them first, or none
        holding = [p for p in passages if any(holds(p.text, word) for word in focus)]
        passages = holding + [p for p in passages if p not in holding]
        enough = enough and bool(holding)
    return {
        "passages": passages,
        "enough": enough,
        "confidence": result.confidence,
        "query": query if focus else "",
        "focus": focus,
    }


def _search(context: Context, snapshot: Snapshot, text: str, language: str) -> Retrieval:
    """What the index version holds for `text`: searched once per question and version,
    then remembered (a repeated question costs neither the model nor LanceDB)."""
    key = (text, language)
    found = snapshot.searches.get(key)
    if found is None:
        found = hybrid_search(
            snapshot.reader,
            context.knowledge.embedder,
            text,
            thresholds=context.thresholds,
            language=language,
        )
        snapshot.searches.put(key, found)
    return replace(found, passages=list(found.passages))  # the caller's own list


def search_web(state: State, runtime: Runtime[Context]) -> Update:
    search = runtime.context.web_search
    if search is None:
        return {"web_results": []}
    try:
        results = search.search(state.message)
    except WebSearchError as error:
        log.warning("web_search.failed", reason=str(error))
        return {"web_results": []}
    log.info("web_search.done", results=len(results))
    return {"web_results": results}


def generate_response(state: State, runtime: Runtime[Context]) -> Update:
    context = runtime.context
    business, persona = context.business.display_name, context.business.persona
    language, intent = state.reply_language, Intent(state.intent)
    if intent is Intent.GREETING:
        said = greeting(language, persona, business, customer=state.language)
        return _said(said, language, confidence=1.0)
    if intent in _PERSONA_PHRASES:
        return _said(phrase(_PERSONA_PHRASES[intent], language, persona, business), language, 1.0)
    if intent is Intent.ABUSE:
        return _said(phrase("out_of_scope", language, persona, business), language, 1.0)
    if intent in _HANDOFF_PHRASES:
        return _handoff(context, _HANDOFF_PHRASES[intent], intent.value, language)
    if intent is Intent.HOURS and context.business.hours is not None:
        return _hours(context, context.business.hours, state.message, language)
    if state.parts:
        return _answer_parts(context, state)
    found = state.enough or bool(state.web_results)
    if not found and not owner_turns(state.history):  # the owner's words may still answer
        return _miss(context, state, "low_confidence")
    question = Question(
        text=state.query or state.message,
        reply_language=language,
        passages=(state.passages if state.enough else []) + _hours_fact(context),
        business=business,
        persona=persona,
        web_results=state.web_results,
        history=state.history[:-1],
        now=local_time(context.clock, context.business.timezone)
        if asks_about_now(state.message)
        else None,
        focus=tuple(state.focus),
        customer_language=state.language,
    )
    started = time.perf_counter()
    draft = context.responder.answer(question)
    context.metrics.generation_seconds.labels(context.responder.backend).observe(
        time.perf_counter() - started
    )
    if draft is None:
        return _miss(context, state, "not_in_knowledge" if found else "low_confidence")
    update = _drafted(draft)
    if not needs_translation(draft.language, language):
        update["history"] = [Turn("agent", draft.text, draft.language)]
    return update


def _answer_parts(context: Context, state: State) -> Update:
    """Each part of a two-part question answered on its own, in the customer's language,
    all within one answer budget for the message; the parts nothing answers are named: a
    person is asked about them, or, with nobody to hand to, the customer is told honestly."""
    business, language = context.business, state.reply_language
    said: list[str] = []
    used: list[Passage] = []
    missed: list[str] = []
    previous: Draft | None = None
    with message_deadline(context.responder):  # the customer waits for all parts at once
        for part, passages, enough in zip(
            state.parts, state.part_passages, state.part_enough, strict=True
        ):
            if previous is not None and _covered(part, previous, state.language):
                continue
            draft = previous = _part_answer(context, state, part, passages if enough else [])
            if draft is None:
                missed.append(part)
            elif draft.text not in said:  # one passage answering both parts is said once
                said.append(draft.text)
                used.extend(passage for passage in draft.used if passage not in used)
    if not said:
        return _miss(context, state, "low_confidence" if not state.enough else "not_in_knowledge")
    told = [_unanswered_part(context, part, language) for part in missed]
    update = _said("\n".join([*said, *told]), language, state.confidence)
    update.update(used=used, backend=context.responder.backend)
    if missed:
        context.metrics.unanswered.labels(state.language).inc()
        update["unanswered"] = True
        if business.handoff.enabled:
            update.update(handoff=True, handoff_reason="not_in_knowledge")
    return update


def _covered(part: str, previous: Draft, language: str) -> bool:
    """A part asking how much of something the part before it named ("How much is an
    iPhone 11 screen? How many hours?"), whose answer already states that amount ("It takes
    2 hours"). Searched alone it found the opening hours."""
    word = leaning_word(part, language)
    if word is None:
        return False
    said = [previous.text, *(passage.text for passage in previous.used)]
    return any(states_amount_of(text, word) for text in said)


def _unanswered_part(context: Context, part: str, language: str) -> str:
    """What the customer is told about a part nothing answers: that a person will reply
    about it, or, when the owner turned handoff off, that we do not know, naming the part."""
    business = context.business
    if business.handoff.enabled:
        return frame(PART_UNANSWERED, language, part=part, business=business.display_name)
    unsure = phrase("unsure", language, business.persona, business.display_name)
    return f'"{part}": {unsure}'


def _part_answer(
    context: Context, state: State, part: str, passages: list[Passage]
) -> Draft | None:
    """One part's answer in the reply language: from the hours when it asks about them and
    the owner stated them, else from its own passages (translated only when the responder
    wrote it in another language)."""
    language, business = state.reply_language, context.business
    if business.hours is not None and asks_about_hours(part):
        now = context.clock().astimezone(ZoneInfo(business.timezone))
        hours = hours_passage(business.hours, now)
        return Draft(hours_answer(business.hours, now, part, language), language, [hours], "hours")
    if not passages:
        return None
    question = Question(
        text=part,
        reply_language=language,
        passages=passages,
        business=business.display_name,
        persona=business.persona,
        customer_language=state.language,
    )
    draft = context.responder.answer(question)
    if draft is None or not needs_translation(draft.language, language):
        return draft
    return context.responder.translate(draft, language, business.persona)


def _hours(context: Context, hours: OpeningHours, text: str, language: str) -> Update:
    """The answer from `spec.hours` and the business's clock, resting on the hours."""
    now = context.clock().astimezone(ZoneInfo(context.business.timezone))
    answer = hours_answer(hours, now, text, language)
    return {**_said(answer, language, 1.0), "backend": "hours", "used": [hours_passage(hours, now)]}


def _hours_fact(context: Context) -> list[Passage]:
    """The opening hours as a fact for the LLM (the grounded responder answers from the
    knowledge's own passages, and hours questions never reach it)."""
    hours = context.business.hours
    if hours is None or context.responder.backend != "llm":
        return []
    return [hours_passage(hours, context.clock().astimezone(ZoneInfo(context.business.timezone)))]


def translate_response(state: State, runtime: Runtime[Context]) -> Update:
    context = runtime.context
    draft = Draft(state.answer or "", state.answer_language, state.used, state.backend)
    translated = context.responder.translate(draft, state.reply_language, context.business.persona)
    update = _drafted(translated)
    update["history"] = [Turn("agent", translated.text, translated.language)]
    return update


def needs_translation(answer_language: str, reply_language: str) -> bool:
    return answer_language != reply_language


def _drafted(draft: Draft) -> Update:
    return {
        "answer": draft.text,
        "answer_language": draft.language,
        "used": draft.used,
        "web_results": draft.web,
        "backend": draft.backend,
    }


def _said(text: str, language: str, confidence: float) -> Update:
    return {
        "answer": text,
        "answer_language": language,
        "backend": "persona",
        "confidence": confidence,
        "history": [Turn("agent", text, language)],
    }


def _miss(context: Context, state: State, reason: str) -> Update:
    """Nothing the agent knows answers: a person is asked, and the question is counted."""
    log.info("retrieval.miss", language=state.language, confidence=state.confidence)
    context.metrics.unanswered.labels(state.language).inc()
    return {**_handoff(context, "handoff", reason, state.reply_language), "unanswered": True}


def _handoff(context: Context, key: str, reason: str, language: str) -> Update:
    business, persona = context.business.display_name, context.business.persona
    if not context.business.handoff.enabled:  # nobody to hand to: say so honestly
        return _said(phrase("unsure", language, persona, business), language, 0.0)
    text = phrase(key, language, persona, business)
    update = _said(text, language, 0.0 if reason == "low_confidence" else 1.0)
    return {**update, "handoff": True, "handoff_reason": reason}
