"""The graph's nodes: each reads the state and the tenant's context and returns what it changed."""

import time
from typing import Any
from zoneinfo import ZoneInfo

from langgraph.runtime import Runtime

from agent_runtime.clock import asks_about_now, local_time
from agent_runtime.context import Context
from agent_runtime.generation import Draft, Question
from agent_runtime.hours import asks_about_hours, hours_answer, hours_passage
from agent_runtime.intents import Intent, classify
from agent_runtime.languages import customer_language, reply_language
from agent_runtime.phrases import greeting, phrase
from agent_runtime.retrieval import Passage, hybrid_search
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
    language, _ = customer_language(text, state.previous_language)
    persona = runtime.context.business.persona
    return {
        "message": text,
        "language": language,
        "reply_language": reply_language(language, persona),
        "intent": _intent(text, runtime.context.business).value,
        "history": [Turn("customer", text, language)],
    }


def _intent(text: str, business: BusinessSpec) -> Intent:
    """A question about opening hours is answered from them when the owner stated them;
    without, it stays a question for the knowledge, as before."""
    intent = classify(text)
    if intent is Intent.QUESTION and business.hours is not None and asks_about_hours(text):
        return Intent.HOURS
    return intent


def search_internal(state: State, runtime: Runtime[Context]) -> Update:
    context = runtime.context
    snapshot = context.knowledge.snapshot
    if snapshot is None:
        return {"passages": [], "enough": False, "confidence": 0.0}
    started = time.perf_counter()
    found = hybrid_search(
        snapshot.reader,
        context.knowledge.embedder,
        state.message,
        thresholds=context.thresholds,
        language=state.language,
    )
    context.metrics.retrieval_seconds.observe(time.perf_counter() - started)
    return {"passages": found.passages, "enough": found.enough, "confidence": found.confidence}


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
        return _said(greeting(language, persona, business), language, confidence=1.0)
    if intent in _PERSONA_PHRASES:
        return _said(phrase(_PERSONA_PHRASES[intent], language, persona, business), language, 1.0)
    if intent is Intent.ABUSE:
        return _said(phrase("out_of_scope", language, persona, business), language, 1.0)
    if intent in _HANDOFF_PHRASES:
        return _handoff(context, _HANDOFF_PHRASES[intent], intent.value, language)
    if intent is Intent.HOURS and context.business.hours is not None:
        return _hours(context, context.business.hours, state.message, language)
    found = state.enough or bool(state.web_results)
    if not found and not owner_turns(state.history):  # the owner's words may still answer
        return _miss(context, state, "low_confidence")
    question = Question(
        text=state.message,
        reply_language=language,
        passages=(state.passages if state.enough else []) + _hours_fact(context),
        business=business,
        persona=persona,
        web_results=state.web_results,
        history=state.history[:-1],
        now=local_time(context.clock, context.business.timezone)
        if asks_about_now(state.message)
        else None,
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
