"""The Business resource: one tenant, its WhatsApp number, persona, knowledge and agent."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from katha.api.base import ApiModel, cel_rules
from katha.api.fields import DnsLabel, HttpUrl, PhoneNumber, PhoneNumberId, Quantity, Timezone
from katha.api.hours import OpeningHours
from katha.api.knowledge import Knowledge
from katha.api.media import Vision, Voice
from katha.api.memory import Memory
from katha.api.meta import Condition, ObjectMeta
from katha.api.refs import SecretKeyRef, SecretRef

PersonaLanguage = Literal["si", "en", "ta", "singlish"]


# AUTHENTICATION: Meta's category for one-time codes, the only one a login code may use.
TemplateCategory = Literal["UTILITY", "MARKETING", "AUTHENTICATION"]
# Template status events after which Meta refuses to send the template: the router sends
# none of these, and the operator's TemplatesReady condition is False for them. (FLAGGED,
# LOCKED and IN_APPEAL templates still send; FLAGGED is a Warning Event only.)
TEMPLATE_STOPPED_EVENTS = frozenset(
    {"PAUSED", "DISABLED", "REJECTED", "PENDING_DELETION", "DELETED", "ARCHIVED"}
)
# Meta's template language codes: "en", "en_US", "si", "ta" ...
TEMPLATE_LANGUAGE = r"^[a-z]{2,3}(_[A-Z]{2})?$"


class Template(ApiModel):
    """A message template approved in WhatsApp Manager, for what Katha may send first
    (outside a 24-hour window). Its body's parameters are fixed by its purpose (see
    `Templates`); Katha sends it in the first of `languages` the recipient reads."""

    name: str = Field(pattern=r"^[a-z0-9_]{1,512}$", description="The template's name in Meta.")
    languages: list[Annotated[str, Field(pattern=TEMPLATE_LANGUAGE)]] = Field(
        min_length=1,
        max_length=8,
        description=(
            "Approved translations, e.g. [si, ta, en]: a customer gets the one in their "
            "language, else the first English one (the bridge), else none."
        ),
    )
    category: TemplateCategory = Field(
        default="UTILITY",
        description=(
            "As approved in Meta; a MARKETING template never goes to a customer who "
            "stopped marketing messages; AUTHENTICATION is for loginCode alone."
        ),
    )


class Templates(ApiModel):
    """Templates Katha uses when a free-form message would be refused (more than 24 hours
    after the recipient last wrote). Body parameters, in order:
    - handoffNotice (to the owner): {{1}} the conversation reference, {{2}} the customer's
      name or number, {{3}} why the agent handed over;
    - handoffEnded (to the customer, when the owner releases a conversation): {{1}} the
      assistant's name;
    - reopen (to the customer, when an answer is ready after their window closed): {{1}} the
      business's display name;
    - loginCode (to the owner, signing in to the console): {{1}} the one-time code. Its
      category must be AUTHENTICATION (Meta approves one-time codes only as that), and
      no other purpose may use AUTHENTICATION."""

    model_config = cel_rules(
        (
            "!has(self.loginCode) || self.loginCode.category == 'AUTHENTICATION'",
            "loginCode must be an AUTHENTICATION template",
        ),
        (
            "(!has(self.handoffNotice) || self.handoffNotice.category != 'AUTHENTICATION')"
            " && (!has(self.handoffEnded) || self.handoffEnded.category != 'AUTHENTICATION')"
            " && (!has(self.reopen) || self.reopen.category != 'AUTHENTICATION')",
            "only loginCode may be an AUTHENTICATION template",
        ),
    )

    handoff_notice: Template | None = None
    handoff_ended: Template | None = None
    reopen: Template | None = None
    login_code: Template | None = None

    @model_validator(mode="after")
    def _authentication_for_codes_only(self) -> Self:
        if self.login_code is not None and self.login_code.category != "AUTHENTICATION":
            raise PydanticCustomError(
                "template_category", "loginCode must be an AUTHENTICATION template"
            )
        others = (self.handoff_notice, self.handoff_ended, self.reopen)
        if any(t is not None and t.category == "AUTHENTICATION" for t in others):
            raise PydanticCustomError(
                "template_category", "only loginCode may be an AUTHENTICATION template"
            )
        return self


class WhatsApp(ApiModel):
    phone_number_id: PhoneNumberId = Field(
        description="The phone number ID from Meta's WhatsApp Manager (not the phone number)."
    )
    credentials_secret_ref: SecretRef = Field(
        description="A Secret with the keys accessToken, appSecret and verifyToken."
    )
    business_account_id: str | None = Field(
        default=None,
        pattern=r"^[0-9]{8,20}$",
        description=(
            "The WhatsApp Business Account ID: Meta's account-wide webhooks (restrictions, "
            "quality, template status) carry only this, so without it they cannot reach "
            "this Business."
        ),
    )
    templates: Templates = Field(default_factory=Templates)


class Tone(StrEnum):
    WARM = "warm"
    FRIENDLY = "friendly"
    PROFESSIONAL = "professional"
    CONCISE = "concise"


class Persona(ApiModel):
    name: str = Field(default="Katha", min_length=1, max_length=40)
    tone: Tone = Tone.WARM
    languages: list[PersonaLanguage] = Field(
        default_factory=list,
        max_length=4,
        description="Languages the agent may answer in; empty means the customer's language.",
    )
    singlish_replies: Literal["singlish", "sinhala"] = Field(
        default="singlish",
        description="Answer Singlish messages in Singlish, or in Sinhala script.",
    )
    greeting: str | None = Field(default=None, min_length=1, max_length=500)
    instructions: str | None = Field(default=None, max_length=4000)


class OpenAIEndpoint(ApiModel):
    """Any OpenAI-compatible chat endpoint (vLLM, OpenAI, ...)."""

    base_url: HttpUrl = Field(description="The API base, e.g. https://api.openai.com/v1")
    model: str = Field(min_length=1, max_length=200)
    api_key_secret_ref: SecretKeyRef | None = None


class Model(ApiModel):
    """Which LLM writes answers; with neither field the built-in grounded responder does."""

    model_config = cel_rules(
        (
            "has(self.languageModelRef) != has(self.endpoint)",
            "set exactly one of languageModelRef or endpoint",
        ),
    )

    language_model_ref: DnsLabel | None = Field(
        default=None, description="A LanguageModel in the platform namespace."
    )
    endpoint: OpenAIEndpoint | None = None
    temperature: float = Field(default=0.2, ge=0, le=2)
    max_tokens: int = Field(default=512, ge=16, le=8192)
    # WhatsApp's typing indicator lasts about 25 s: a budget past it leaves the customer
    # looking at silence, so it is capped there.
    answer_budget_seconds: float = Field(
        default=6.0,
        ge=0.5,
        le=25,
        description="How long the model may take to answer one message, its translation "
        "included; past it the built-in grounded responder's answer is sent instead.",
    )

    @model_validator(mode="after")
    def _one_backend(self) -> Self:
        if self.language_model_ref is not None and self.endpoint is not None:
            raise PydanticCustomError(
                "model_backend",
                "set either languageModelRef or endpoint, not both "
                "(leave out model entirely for the built-in responder)",
            )
        if self.language_model_ref is None and self.endpoint is None:
            raise PydanticCustomError(
                "model_backend",
                "set languageModelRef or endpoint (leave out model entirely for the built-in "
                "responder)",
            )
        return self


class WebSearchProvider(StrEnum):
    SEARXNG = "searxng"
    TAVILY = "tavily"
    DUCKDUCKGO = "duckduckgo"


class WebSearch(ApiModel):
    model_config = cel_rules(
        ("self.provider != 'searxng' || has(self.url)", "the searxng provider needs url"),
        (
            "self.provider != 'tavily' || has(self.apiKeySecretRef)",
            "the tavily provider needs apiKeySecretRef",
        ),
    )
    enabled: bool = False
    provider: WebSearchProvider = WebSearchProvider.DUCKDUCKGO
    url: HttpUrl | None = Field(default=None, description="The SearXNG instance to query.")
    api_key_secret_ref: SecretKeyRef | None = Field(default=None, description="Tavily's API key.")
    max_results: int = Field(default=3, ge=1, le=10)
    region: str = Field(default="lk", pattern=r"^[a-z]{2}$")

    @model_validator(mode="after")
    def _provider_settings(self) -> Self:
        if self.provider is WebSearchProvider.SEARXNG and self.url is None:
            raise PydanticCustomError(
                "web_search", "the searxng provider needs the url of your SearXNG instance"
            )
        if self.provider is WebSearchProvider.TAVILY and self.api_key_secret_ref is None:
            raise PydanticCustomError(
                "web_search", "the tavily provider needs apiKeySecretRef with Tavily's API key"
            )
        return self


class Handoff(ApiModel):
    model_config = cel_rules(
        (
            "!self.enabled || has(self.ownerNumber)",
            "handoff is enabled, so ownerNumber is required",
        ),
    )
    enabled: bool = False
    owner_number: PhoneNumber | None = Field(
        default=None, description="The WhatsApp number that is told when a customer needs a human."
    )

    @model_validator(mode="after")
    def _owner_needed(self) -> Self:
        if self.enabled and self.owner_number is None:
            raise PydanticCustomError(
                "handoff", "handoff is enabled, so ownerNumber (e.g. +94771234567) is required"
            )
        return self


class Scaling(ApiModel):
    model_config = cel_rules(
        ("self.minReplicas <= self.maxReplicas", "minReplicas must not be above maxReplicas"),
    )
    min_replicas: int = Field(default=1, ge=0, le=100)
    max_replicas: int = Field(default=2, ge=1, le=100)
    target_ongoing_requests: int = Field(default=4, ge=1, le=100)

    @property
    def max_ongoing_requests(self) -> int:
        """How many requests one replica takes at once (Serve's max_ongoing_requests).

        Twice the autoscaling target: Serve's default (5) sits just above the default
        target (4), so a shop's burst, up to the router's 8 messages in flight per tenant,
        was refused by the busy replica and retried by the proxy with backoff, again and
        again. That cost more CPU than the replies at concurrency 16 on `katha up` and
        tripled p99 (bench/one_machine.py). The autoscaler still counts queued requests
        against the target, so it adds replicas as before.
        """
        return 2 * self.target_ongoing_requests

    @model_validator(mode="after")
    def _min_not_above_max(self) -> Self:
        if self.min_replicas > self.max_replicas:
            raise PydanticCustomError(
                "replicas",
                "minReplicas ({low}) is above maxReplicas ({high})",
                {"low": self.min_replicas, "high": self.max_replicas},
            )
        return self


class Workload(StrEnum):
    AUTO = "auto"
    RAY_SERVICE = "rayService"
    DEPLOYMENT = "deployment"


class Resources(ApiModel):
    cpu: Quantity = "1"
    memory: Quantity = "1536Mi"


class Agent(ApiModel):
    workload: Workload = Field(
        default=Workload.AUTO,
        description="auto: a KubeRay RayService when KubeRay is installed, else a Deployment.",
    )
    resources: Resources = Field(default_factory=Resources)


class BusinessSpec(ApiModel):
    display_name: str = Field(min_length=1, max_length=100)
    timezone: Timezone = "Asia/Colombo"
    hours: OpeningHours | None = Field(
        default=None, description="Opening hours in timezone; absent: the hours are not stated."
    )
    whatsapp: WhatsApp
    persona: Persona = Field(default_factory=Persona)
    knowledge: Knowledge = Field(default_factory=Knowledge)
    model: Model | None = None
    web_search: WebSearch = Field(default_factory=WebSearch)
    voice: Voice | None = Field(
        default=None,
        description="Transcribes customers' voice notes; absent: a person listens to them.",
    )
    vision: Vision | None = Field(
        default=None,
        description="Reads customers' photos; absent: a person looks at them.",
    )
    handoff: Handoff = Field(default_factory=Handoff)
    scaling: Scaling = Field(default_factory=Scaling)
    memory: Memory = Field(
        default_factory=Memory,
        description="How long the agent remembers conversations, and whether in Postgres.",
    )
    agent: Agent = Field(default_factory=Agent)
    suspend: bool = False
    paused: bool = Field(default=False, description="Keep and show messages; answer none.")


class BusinessPhase(StrEnum):
    PENDING = "Pending"
    INDEXING = "Indexing"
    READY = "Ready"
    DEGRADED = "Degraded"
    SUSPENDED = "Suspended"
    FAILED = "Failed"


class KnowledgeStatus(ApiModel):
    """What the index writer's last finished run reported, and when it runs next."""

    documents: int = Field(default=0, ge=0)
    chunks: int = Field(default=0, ge=0)
    index_version: int = Field(default=0, ge=0)
    last_indexed: datetime | None = None
    last_run: datetime | None = Field(default=None, description="When the last run finished.")
    next_run: datetime | None = Field(
        default=None, description="When the writer runs again on schedule."
    )
    writer_job: str | None = Field(default=None, description="The newest index writer Job.")
    failed_sources: list[str] = Field(
        default_factory=list, description="Sources the last run could not read, and why."
    )
    last_run_digest: str | None = Field(
        default=None, description="The knowledge the last finished run indexed (a digest)."
    )
    last_run_request: str | None = Field(
        default=None, description="The refresh request the last finished run answered."
    )
    last_run_succeeded: bool | None = None


class Restriction(ApiModel):
    type: str = Field(
        description="Meta's restriction_type, e.g. RESTRICTED_BIZ_INITIATED_MESSAGING."
    )
    expires_at: datetime | None = None


class AccountSignal(ApiModel):
    """Meta's newest account_update for the Business's WhatsApp Business Account."""

    event: str = Field(description="ACCOUNT_RESTRICTION, ACCOUNT_VIOLATION, DISABLED_UPDATE, ...")
    restrictions: list[Restriction] = Field(default_factory=list)
    violation: str | None = None
    ban_state: str | None = None
    at: datetime


class QualitySignal(ApiModel):
    """Meta's newest phone_number_quality_update for the number."""

    event: str = Field(description="FLAGGED, UNFLAGGED, DOWNGRADE, UPGRADE, ONBOARDING, ...")
    messaging_limit: str | None = Field(default=None, description="TIER_250, TIER_1K, ...")
    previous_limit: str | None = None
    at: datetime


class TemplateSignal(ApiModel):
    """Meta's newest message_template_status_update for one template translation."""

    name: str
    language: str
    event: str = Field(description="APPROVED, PAUSED, REJECTED, DISABLED, FLAGGED, ...")
    reason: str | None = None
    category: str | None = None
    at: datetime


class WhatsAppStatus(ApiModel):
    """What Meta said about the number and its account, as the router received it (it
    writes this part of the status; the operator turns it into conditions and Events).
    `templates` is keyed `<name>:<language>`."""

    account: AccountSignal | None = None
    quality: QualitySignal | None = None
    templates: dict[str, TemplateSignal] = Field(default_factory=dict)


class BusinessStatus(ApiModel):
    phase: BusinessPhase = BusinessPhase.PENDING
    observed_generation: int | None = Field(default=None, ge=0)
    conditions: list[Condition] = Field(default_factory=list)
    endpoint: str | None = None
    knowledge: KnowledgeStatus | None = None
    whatsapp: WhatsAppStatus | None = None


class Business(ApiModel):
    """A tenant: `kubectl apply` one per business."""

    api_version: Literal["katha.dev/v1alpha1"] = "katha.dev/v1alpha1"
    kind: Literal["Business"] = "Business"
    metadata: ObjectMeta
    spec: BusinessSpec
    status: BusinessStatus | None = None
