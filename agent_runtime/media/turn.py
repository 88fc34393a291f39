"""A media message's turn through the graph, in the language the reader decided.

The graph's first node detects the customer's language from the message, but a media
message's words are what the media showed folded with the caption ("[document: කේක් 1kg
රු. 4500] இது எவ்வளவு?"), and that is not the customer's language: the Sinhala lines would
make a Tamil question 'mixed' and the reply Sinhala. So the analysis runs here, on the same
words, with the language replaced by the reader's; the graph takes it through LangGraph's
`update_state(..., as_node="analyze_query")`, as if its own node had found it, and runs on.
"""

from langgraph.runtime import Runtime

from agent_runtime.context import Context
from agent_runtime.languages import reply_language
from agent_runtime.nodes import analyze_query
from agent_runtime.state import State, Turn, fresh_turn

ANALYSIS_NODE = "analyze_query"


def analysed_turn(
    text: str, previous: str | None, language: str, context: Context
) -> dict[str, object]:
    """The state the graph's analysis would leave for `text`, in `language`: every
    per-message field reset as for a fresh turn, the intent and parts found from the words,
    and the customer's turn remembered in `language`."""
    analysed = analyze_query(
        State(message=text, previous_language=previous), Runtime(context=context)
    )
    analysed.update(
        language=language,
        reply_language=reply_language(language, context.business.persona),
        history=[Turn("customer", analysed["message"], language)],
    )
    return {**fresh_turn(text, previous), **analysed}
