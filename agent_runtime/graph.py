"""The agent's graph, as the design draws it.

analyze_query → search_internal → (search_web when the knowledge is not enough and web
search is on) → generate_response → (translate_response when the answer is not in the
customer's language) → END. Greetings, thanks and requests for a person skip retrieval.
"""

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from agent_runtime.context import Context
from agent_runtime.intents import Intent
from agent_runtime.nodes import (
    analyze_query,
    generate_response,
    needs_translation,
    search_internal,
    search_web,
    translate_response,
)
from agent_runtime.state import State


def after_analysis(state: State) -> str:
    return "search_internal" if state.intent == Intent.QUESTION else "generate_response"


def after_search(state: State, runtime: Runtime[Context]) -> str:
    if not state.enough and runtime.context.web_search is not None:
        return "search_web"
    return "generate_response"


def after_generation(state: State) -> str:
    if state.answer and needs_translation(state.answer_language, state.reply_language):
        return "translate_response"
    return END


def build_graph(
    checkpointer: BaseCheckpointSaver[Any] | None = None,
) -> CompiledStateGraph[State, Context, Any, Any]:
    builder = StateGraph(State, context_schema=Context)
    builder.add_node(analyze_query)
    builder.add_node(search_internal)
    builder.add_node(search_web)
    builder.add_node(generate_response)
    builder.add_node(translate_response)

    builder.add_edge(START, "analyze_query")
    builder.add_conditional_edges(
        "analyze_query", after_analysis, ["search_internal", "generate_response"]
    )
    builder.add_conditional_edges(
        "search_internal", after_search, ["search_web", "generate_response"]
    )
    builder.add_edge("search_web", "generate_response")
    builder.add_conditional_edges(
        "generate_response", after_generation, ["translate_response", END]
    )
    builder.add_edge("translate_response", END)
    return builder.compile(checkpointer=checkpointer, name="katha-agent")
