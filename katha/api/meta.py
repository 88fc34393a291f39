"""The parts of Kubernetes' object model that Katha's resources share: metadata and conditions."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from katha.api.base import ApiModel
from katha.api.fields import DnsLabel, DnsSubdomain


class ObjectMeta(BaseModel):
    """The metadata fields Katha reads; everything else the API server sets is kept as is."""

    model_config = ConfigDict(alias_generator=None, extra="allow", frozen=True)

    name: DnsLabel
    namespace: DnsSubdomain | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    uid: str | None = None
    generation: int | None = None
    resourceVersion: str | None = None  # noqa: N815 - Kubernetes' own spelling


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(ApiModel):
    """A standard Kubernetes condition (metav1.Condition)."""

    type: str = Field(min_length=1, max_length=316)
    status: ConditionStatus
    reason: str = Field(default="Unknown", pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")
    message: str = Field(default="", max_length=32768)
    last_transition_time: datetime | None = None
    observed_generation: int | None = Field(default=None, ge=0)
