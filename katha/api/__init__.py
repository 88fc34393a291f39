"""Katha's Kubernetes API: Business and LanguageModel, the single source of truth for the CRDs."""

from katha.api.base import API_GROUP, API_VERSION, GROUP_VERSION, ApiModel
from katha.api.business import Business, BusinessPhase, BusinessSpec, BusinessStatus
from katha.api.knowledge import REFRESH_ANNOTATION, KnowledgeSource
from katha.api.language_model import (
    LanguageModel,
    LanguageModelPhase,
    LanguageModelSpec,
    LanguageModelStatus,
)
from katha.api.meta import Condition, ConditionStatus, ObjectMeta
from katha.api.validation import (
    FieldProblem,
    InvalidResourceError,
    load_resources,
    validate_manifest,
)

__all__ = [
    "API_GROUP",
    "API_VERSION",
    "GROUP_VERSION",
    "REFRESH_ANNOTATION",
    "ApiModel",
    "Business",
    "BusinessPhase",
    "BusinessSpec",
    "BusinessStatus",
    "Condition",
    "ConditionStatus",
    "FieldProblem",
    "InvalidResourceError",
    "KnowledgeSource",
    "LanguageModel",
    "LanguageModelPhase",
    "LanguageModelSpec",
    "LanguageModelStatus",
    "ObjectMeta",
    "load_resources",
    "validate_manifest",
]
