"""Two ways to write an answer behind one interface: an LLM, or the built-in grounded responder."""

from agent_runtime.generation.base import Draft, Question, Responder

__all__ = ["Draft", "Question", "Responder"]
