"""Answers written by any OpenAI-compatible chat endpoint (vLLM, OpenAI) via langchain-openai.

The model sees only the retrieved facts (and what the owner told this customer). Its answer
is checked before it is sent: a number (price, time, quantity) that no fact, owner's note or
the question contains means the model made it up, and the grounded responder answers instead.
"""

import re

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from agent_runtime.generation.base import Draft, Question
from agent_runtime.generation.grounded import GroundedResponder
from agent_runtime.languages import customer_language
from agent_runtime.prompts import HANDOFF_MARKER, system_prompt, translate_prompt
from agent_runtime.state import Turn, owner_turns
from katha.api.business import Persona
from katha.contracts.serving import LlmEndpoint
from katha.observability import get_logger

log = get_logger("agent")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")


class LlmResponder:
    def __init__(
        self,
        endpoint: LlmEndpoint,
        *,
        api_key: str | None,
        temperature: float = 0.2,
        max_tokens: int = 512,
        timeout_seconds: float = 20.0,
    ) -> None:
        self._chat = ChatOpenAI(
            model_name=endpoint.model,
            openai_api_base=endpoint.base_url,
            openai_api_key=SecretStr(api_key or "unused"),
            temperature=temperature,
            max_tokens=max_tokens,
            request_timeout=timeout_seconds,
            max_retries=1,
        )
        self._fallback = GroundedResponder()

    @property
    def backend(self) -> str:
        return "llm"

    def answer(self, question: Question) -> Draft | None:
        messages: list[BaseMessage] = [SystemMessage(system_prompt(question))]
        messages += [_message(turn) for turn in question.history]
        messages.append(HumanMessage(question.text))
        try:
            text = self._complete(messages)
        except Exception as error:  # the endpoint is down or slow: answer without it
            log.warning("generation.failed", backend="llm", reason=type(error).__name__)
            return self._fallback.answer(question)
        if text.strip() == HANDOFF_MARKER or not text.strip():
            return None
        evidence = [question.text, question.now or "", *(p.text for p in question.passages)]
        evidence += [result.snippet for result in question.web_results]
        evidence += [turn.text for turn in owner_turns(question.history)]  # "ready at 5 pm"
        invented = unsupported_numbers(text, evidence)
        if invented:
            log.warning("generation.ungrounded", backend="llm", numbers=len(invented))
            return self._fallback.answer(question)
        language, _ = customer_language(text, None)
        return Draft(text.strip(), language, question.passages, self.backend, question.web_results)

    def translate(self, draft: Draft, language: str, persona: Persona) -> Draft:
        messages = [SystemMessage(translate_prompt(language)), HumanMessage(draft.text)]
        try:
            text = self._complete(messages)
        except Exception as error:
            log.warning("translation.failed", backend="llm", reason=type(error).__name__)
            return self._fallback.translate(draft, language, persona)
        if unsupported_numbers(text, [draft.text]):
            log.warning("translation.ungrounded", backend="llm")
            return self._fallback.translate(draft, language, persona)
        return Draft(text.strip(), language, draft.used, draft.backend, draft.web)

    def _complete(self, messages: list[BaseMessage]) -> str:
        reply = self._chat.invoke(messages)
        return reply.content if isinstance(reply.content, str) else str(reply.content)


def _message(turn: Turn) -> BaseMessage:
    """A turn of the conversation as the model sees it: the customer is the user, the agent
    the assistant, and the owner (a person) the business's side under the name "owner"."""
    if turn.role == "customer":
        return HumanMessage(turn.text)
    if turn.role == "owner":
        return AIMessage(turn.text, name="owner")
    return AIMessage(turn.text)


def unsupported_numbers(text: str, evidence: list[str]) -> set[str]:
    """Numbers in `text` that appear in none of `evidence` ("4,800" and "4800" are one)."""
    known = {_plain(number) for source in evidence for number in _NUMBER.findall(source)}
    return {number for number in _NUMBER.findall(text) if _plain(number) not in known}


def _plain(number: str) -> str:
    return number.replace(",", "")
