"""What every node may use for one tenant: its persona, index, responders and web search."""

from dataclasses import dataclass, field

from agent_runtime.clock import Clock, utc_now
from agent_runtime.generation import Responder
from agent_runtime.knowledge import KnowledgeBase
from agent_runtime.metrics import AgentMetrics
from agent_runtime.retrieval import Thresholds
from agent_runtime.websearch import WebSearch
from katha.api.business import BusinessSpec


@dataclass(frozen=True)
class Context:
    tenant: str
    business: BusinessSpec
    knowledge: KnowledgeBase
    responder: Responder  # the LLM when one is configured, else the grounded responder
    metrics: AgentMetrics
    web_search: WebSearch | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    clock: Clock = utc_now
