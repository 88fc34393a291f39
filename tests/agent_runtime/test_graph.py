"""The graph is the design's diagram: these nodes, these edges, nothing else."""

from agent_runtime.graph import build_graph


def test_the_graph_follows_the_designed_flow() -> None:
    graph = build_graph().get_graph()
    edges = {(edge.source, edge.target, edge.conditional) for edge in graph.edges}
    assert edges == {
        ("__start__", "analyze_query", False),
        ("analyze_query", "search_internal", True),
        ("analyze_query", "generate_response", True),  # greetings, thanks, handoffs
        ("search_internal", "search_web", True),
        ("search_internal", "generate_response", True),
        ("search_web", "generate_response", False),
        ("generate_response", "translate_response", True),
        ("generate_response", "__end__", True),
        ("translate_response", "__end__", False),
    }
