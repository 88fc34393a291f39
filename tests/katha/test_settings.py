"""Each component reads its own KATHA_<COMPONENT>_ variables and refuses placeholder secrets."""

import importlib
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent_runtime.settings import AgentSettings
from business_operator.settings import OperatorSettings
from ingestion.settings import IngestionSettings
from katha.settings import ComponentSettings, LogFormat
from router.settings import RouterSettings


def test_each_component_reads_its_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KATHA_ROUTER_PORT", "9000")
    monkeypatch.setenv("KATHA_AGENT_LOG_FORMAT", "json")
    monkeypatch.setenv("KATHA_INGEST_BATCH_SIZE", "8")
    monkeypatch.setenv("KATHA_OPERATOR_PLATFORM_NAMESPACE", "katha")
    assert RouterSettings().port == 9000
    assert AgentSettings().log_format is LogFormat.JSON
    assert RouterSettings().log_format is LogFormat.AUTO  # the agent's variable is not the router's
    assert IngestionSettings().batch_size == 8
    assert OperatorSettings().platform_namespace == "katha"


def test_defaults_need_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in os.environ if name.startswith("KATHA_")]:
        monkeypatch.delenv(name)
    settings = RouterSettings()
    assert settings.inbox_url.startswith("sqlite:///")
    assert settings.routes_file is None
    assert AgentSettings().knowledge_dir == Path("/etc/katha/knowledge")


@pytest.mark.parametrize("placeholder", ["changeme", "secret", "short", "  TODO  "])
def test_placeholder_secrets_are_refused(monkeypatch: pytest.MonkeyPatch, placeholder: str) -> None:
    monkeypatch.setenv("KATHA_AGENT_LLM_API_KEY", placeholder)
    with pytest.raises(ValidationError, match="placeholder"):
        AgentSettings()


def test_real_secrets_are_kept_but_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KATHA_INGEST_EMBEDDINGS_API_KEY", "sk-live-4f9a8b7c6d5e")
    settings = IngestionSettings()
    assert settings.embeddings_api_key is not None
    assert settings.embeddings_api_key.get_secret_value() == "sk-live-4f9a8b7c6d5e"
    assert "sk-live" not in repr(settings)


def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KATHA_ROUTER_INBOX_URL", "postgres://db/inbox")
    with pytest.raises(ValidationError, match="inbox_url"):
        RouterSettings()
    monkeypatch.setenv("KATHA_ROUTER_INBOX_URL", "redis://redis:6379/0")
    monkeypatch.setenv("KATHA_ROUTER_LOG_LEVEL", "loud")
    with pytest.raises(ValidationError, match="log_level"):
        RouterSettings()


@pytest.mark.parametrize(
    "module",
    [
        "router.settings",
        "agent_runtime.settings",
        "ingestion.settings",
        "business_operator.settings",
    ],
)
def test_settings_are_built_by_callers_not_at_import(module: str) -> None:
    loaded = importlib.import_module(module)
    assert not any(isinstance(value, ComponentSettings) for value in vars(loaded).values())
