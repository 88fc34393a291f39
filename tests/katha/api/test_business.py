"""The Business and LanguageModel models: defaults, camelCase, and the rules between fields."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from katha.api import Business, InvalidResourceError, LanguageModel, validate_manifest

EXAMPLES = Path(__file__).parents[3] / "crds" / "examples"


def _minimal() -> dict[str, Any]:
    manifest: dict[str, Any] = yaml.safe_load((EXAMPLES / "01-minimal-business.yaml").read_text())
    return manifest


def test_minimal_business_gets_offline_defaults() -> None:
    business = Business.model_validate(_minimal())
    assert business.spec.timezone == "Asia/Colombo"
    assert business.spec.model is None  # the built-in grounded responder
    assert business.spec.web_search.enabled is False
    assert business.spec.knowledge.refresh_interval == "24h"
    assert business.spec.knowledge.storage.size == "1Gi"
    assert business.spec.suspend is False


def test_yaml_round_trip_keeps_camel_case() -> None:
    business = Business.model_validate(_minimal())
    dumped = business.to_yaml_dict()
    assert "phoneNumberId" in dumped["spec"]["whatsapp"]
    assert "credentialsSecretRef" in dumped["spec"]["whatsapp"]
    assert Business.model_validate(dumped) == business


def test_sinhala_faq_text_survives_validation() -> None:
    business = Business.model_validate(_minimal())
    source = business.spec.knowledge.sources[0]
    assert source.type == "faq"
    assert source.items is not None
    assert source.items[1].q == "ඔබ කීයටද විවෘත කරන්නේ?"


def test_every_source_type_example_parses_each_type() -> None:
    manifest = yaml.safe_load((EXAMPLES / "02-every-source-type.yaml").read_text())
    business = Business.model_validate(manifest)
    assert {source.type for source in business.spec.knowledge.sources} == {
        "web",
        "pdf",
        "spreadsheet",
        "text",
        "faq",
    }


def test_source_names_must_be_unique() -> None:
    manifest = _minimal()
    manifest["spec"]["knowledge"]["sources"] = [
        {"name": "menu", "type": "pdf", "url": "https://example.lk/a.pdf"},
        {"name": "menu", "type": "pdf", "url": "https://example.lk/b.pdf"},
    ]
    with pytest.raises(InvalidResourceError, match="repeated: menu"):
        validate_manifest(manifest)


@pytest.mark.parametrize(
    ("web_search", "message"),
    [
        ({"enabled": True, "provider": "searxng"}, "needs the url of your SearXNG"),
        ({"enabled": True, "provider": "tavily"}, "needs apiKeySecretRef"),
    ],
)
def test_web_search_providers_need_their_settings(web_search: dict[str, Any], message: str) -> None:
    manifest = _minimal()
    manifest["spec"]["webSearch"] = web_search
    with pytest.raises(InvalidResourceError, match=message):
        validate_manifest(manifest)


def test_model_needs_a_backend_when_given() -> None:
    manifest = _minimal()
    manifest["spec"]["model"] = {"temperature": 0.3}
    with pytest.raises(InvalidResourceError, match="set languageModelRef or endpoint"):
        validate_manifest(manifest)


def test_models_are_immutable() -> None:
    business = Business.model_validate(_minimal())
    with pytest.raises(ValueError, match="frozen"):
        business.spec.suspend = True  # type: ignore[misc]


def test_language_model_example_and_defaults() -> None:
    manifest = yaml.safe_load((EXAMPLES / "03-language-model.yaml").read_text())
    model = LanguageModel.model_validate(manifest)
    assert model.spec.model == "google/gemma-3-4b-it"
    assert model.spec.gpu.count == 1
    assert model.spec.engine_args["enable_prefix_caching"] is True
    bare = LanguageModel.model_validate(
        {
            "apiVersion": "katha.dev/v1alpha1",
            "kind": "LanguageModel",
            "metadata": {"name": "qwen"},
            "spec": {"model": "Qwen/Qwen2.5-7B-Instruct"},
        }
    )
    assert (bare.spec.replicas.min, bare.spec.replicas.max) == (1, 1)
    assert bare.spec.max_model_len is None  # the renderer's 8192, or a Whisper model's own
    assert bare.spec.task == "generate"


def test_an_unquoted_phone_number_id_is_explained() -> None:
    manifest = _minimal()
    manifest["spec"]["whatsapp"]["phoneNumberId"] = 105954558954427  # YAML read it as a number
    with pytest.raises(InvalidResourceError, match=r'quote it in YAML, e\.g\. "105954558954427"'):
        validate_manifest(manifest)


def test_memory_defaults_to_thirty_days_on_the_index_volume() -> None:
    memory = Business.model_validate(_minimal()).spec.memory
    assert memory.retention_days == 30
    assert memory.postgres is None


def test_postgres_memory_names_a_secret_key_not_a_url() -> None:
    manifest = yaml.safe_load((EXAMPLES / "05-business-with-postgres-memory.yaml").read_text())
    memory = Business.model_validate(manifest).spec.memory
    assert memory.retention_days == 90
    assert memory.postgres is not None
    assert memory.postgres.secret_key_ref.model_dump() == {
        "name": "colombo-tea-house-postgres",
        "key": "url",
    }


@pytest.mark.parametrize(
    ("retention", "message"),
    [
        (-7, "spec.memory.retentionDays: must be more than 0, got -7"),
        (3650.5, "spec.memory.retentionDays: must be at most 3650, got 3650.5"),
        ("a month", "spec.memory.retentionDays: Input should be a valid number"),
    ],
)
def test_retention_outside_the_agents_bounds_is_refused(retention: Any, message: str) -> None:
    manifest = _minimal()
    manifest["spec"]["memory"] = {"retentionDays": retention}
    with pytest.raises(InvalidResourceError) as caught:
        validate_manifest(manifest)
    assert any(str(problem).startswith(message) for problem in caught.value.problems), str(
        caught.value
    )


def test_a_fraction_of_a_day_is_a_valid_retention() -> None:
    manifest = _minimal()
    manifest["spec"]["memory"] = {"retentionDays": 0.5}
    assert Business.model_validate(manifest).spec.memory.retention_days == 0.5


def test_voice_and_vision_name_their_models_and_a_daily_limit() -> None:
    manifest = yaml.safe_load((EXAMPLES / "07-business-with-voice-and-photos.yaml").read_text())
    spec = Business.model_validate(manifest).spec
    assert spec.voice is not None
    assert spec.vision is not None
    assert (spec.voice.language_model_ref, spec.voice.daily_limit) == ("whisper-large-v3", 300)
    assert (spec.vision.language_model_ref, spec.vision.daily_limit) == ("gemma-3-4b", 100)
    minimal = Business.model_validate(_minimal()).spec
    assert (minimal.voice, minimal.vision) == (None, None)  # a person listens and looks
    manifest["spec"]["voice"] = {"endpoint": {"baseUrl": "https://api.openai.com/v1",
                                              "model": "whisper-1"}}  # fmt: skip
    voice = Business.model_validate(manifest).spec.voice
    assert voice is not None
    assert voice.daily_limit == 200


def test_a_transcription_model_says_so_and_keeps_its_own_context() -> None:
    manifest = yaml.safe_load((EXAMPLES / "06-transcription-language-model.yaml").read_text())
    model = LanguageModel.model_validate(manifest)
    assert model.spec.task == "transcription"
    assert model.spec.max_model_len is None
