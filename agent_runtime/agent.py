"""One tenant's agent: its graph, index, memory and metrics, answering `InboundMessage`s."""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from agent_runtime.clock import Clock, utc_now
from agent_runtime.context import Context
from agent_runtime.generation import Responder
from agent_runtime.generation.grounded import GroundedResponder
from agent_runtime.graph import build_graph
from agent_runtime.knowledge import KnowledgeBase, Refresher
from agent_runtime.languages import readable_by, reply_language
from agent_runtime.media.reader import Reading, media_reader
from agent_runtime.media.settings import MediaSettings
from agent_runtime.memory import (
    checkpointer,
    close,
    expired,
    forget,
    forget_expired,
    keep_latest,
)
from agent_runtime.metrics import AgentMetrics
from agent_runtime.owner_notes import keep_note
from agent_runtime.phrases import heard, phrase
from agent_runtime.settings import AgentSettings
from agent_runtime.state import fresh_turn
from agent_runtime.tracing import tenant_tracer
from agent_runtime.unanswered import UnansweredQuestions
from agent_runtime.websearch import web_search_for
from ingestion.embedding import Embedder, embedder_from_settings
from ingestion.index.location import IndexLocation, IndexNotLocalError, index_location
from ingestion.places import Places
from ingestion.report import Report
from ingestion.settings import IngestionSettings
from katha.api import Business
from katha.api.meta import ObjectMeta
from katha.contracts.messages import AgentReply, InboundMessage, OwnerNote, Source
from katha.contracts.serving import AgentAppArgs
from katha.observability import bind_ids, get_logger
from katha.replies import text_only

log = get_logger("agent")


class WrongTenantError(ValueError):
    """A message for another tenant reached this agent: the routing table is wrong."""


class Agent:
    def __init__(
        self,
        args: AgentAppArgs,
        settings: AgentSettings,
        *,
        embedder: Embedder | None = None,
        refresher: Refresher | None = None,
        clock: Clock = utc_now,
        media: MediaSettings | None = None,
    ) -> None:
        self.args = args
        self.settings = settings
        self.clock = clock
        namespace, name = args.tenant.split("/")
        location = index_location(args.index_dir).child(namespace, name)
        state = state_path(location, settings)  # before any work: it may refuse the setup
        self.knowledge = KnowledgeBase(
            location,
            embedder or embedder_from_settings(IngestionSettings()),
            refresher or local_refresher(args, settings),
            args.knowledge_revision,
            read_only=settings.index_read_only,
            poll_seconds=settings.index_poll_seconds,
            cache_size=settings.query_cache_size,
        )
        self.metrics = AgentMetrics(self.knowledge.run_totals)
        self.media = media_reader(args, media or MediaSettings(), self.metrics)
        self.retention = timedelta(days=retention_days(args, settings))
        postgres = settings.postgres_url.get_secret_value() if settings.postgres_url else None
        self.saver = checkpointer(state / "conversations.sqlite", postgres)
        self.graph = build_graph(self.saver)
        self.unanswered = UnansweredQuestions(
            state / "unanswered.sqlite", self.retention, clock=clock
        )
        self.tracer = tenant_tracer(args.tenant)
        tavily, proxy = settings.tavily_api_key, settings.web_search_proxy
        self.context = Context(
            tenant=args.tenant,
            business=args.business,
            knowledge=self.knowledge,
            responder=responder_for(args, settings),
            metrics=self.metrics,
            clock=clock,
            web_search=web_search_for(
                args.business.web_search,
                tavily.get_secret_value() if tavily else None,
                settings.web_search_timeout_seconds,
                proxy=proxy.get_secret_value() if proxy else None,
                ca_file=str(settings.web_search_ca_file) if settings.web_search_ca_file else None,
            ),
        )
        fallbacks = getattr(self.context.responder, "fallbacks", None)
        if fallbacks is not None:  # an LLM's fallbacks, by reason
            self.metrics.metrics.registry.register(fallbacks)

    def start(self) -> None:
        """Index in the background when the index is missing or from an older revision
        (never on a read-only index: its writer keeps it current)."""
        with bind_ids(tenant=self.args.tenant):
            if self.knowledge.stale():
                self.knowledge.refresh()
            self.knowledge.follow()  # a read-only replica moves on to each new version
            forget_expired(self.saver, self.retention, self.clock)

    def close(self) -> None:
        """Stop following the index and release the conversation store and the unanswered
        list (a replica shutting down)."""
        self.knowledge.close()
        close(self.saver)
        self.unanswered.close()
        self.media.close()

    def reply(self, message: InboundMessage) -> AgentReply:
        if message.tenant != self.args.tenant:
            raise WrongTenantError(f"this agent serves {self.args.tenant}, not {message.tenant}")
        with bind_ids(
            tenant=self.args.tenant,
            conversation_id=message.conversation_id,
            message_id=message.message_id,
        ):
            text = message_text(message)
            if message.media is not None:
                return self._media(message, text)
            if text is None:  # a reaction, an empty message
                return AgentReply(message_id=message.message_id, text=None, intent="none")
            return self._answer(message, text)

    def keep_note(self, note: OwnerNote) -> bool:
        """Keep what the owner wrote to the customer in that conversation's memory; nothing
        runs and nothing is answered. False when the note was already kept."""
        if note.tenant != self.args.tenant:
            raise WrongTenantError(f"this agent serves {self.args.tenant}, not {note.tenant}")
        with bind_ids(
            tenant=self.args.tenant,
            conversation_id=note.conversation_id,
            message_id=note.message_id,
        ):
            return keep_note(self.graph, self.saver, note, self.retention, self.clock)

    def _answer(
        self, message: InboundMessage, text: str, language: str | None = None
    ) -> AgentReply:
        """`text` answered through the graph; `language`, when given, is the customer's
        (a media message's, decided before its media was folded in), not detected."""
        conversation = message.conversation_id
        if expired(self.saver, conversation, self.retention, self.clock):
            forget(self.saver, conversation)
        config: Any = {
            "configurable": {"thread_id": conversation},
            "tags": [f"tenant:{self.args.tenant}"],
            "metadata": {"tenant": self.args.tenant},
            "run_name": "katha-agent",
            "callbacks": [self.tracer] if self.tracer is not None else [],
        }
        turn = fresh_turn(text, message.previous_language, language)
        # One checkpoint per message, written when the graph ends: a message's steps need
        # no crash recovery (the router retries the message), and each write costs latency.
        state = self.graph.invoke(turn, config, context=self.context, durability="exit")
        keep_latest(self.saver, conversation)
        reply = AgentReply(
            message_id=message.message_id,
            text=state["answer"],
            language=state["reply_language"],
            intent=state["intent"],
            confidence=state["confidence"],
            sources=_sources(state),
            handoff=state["handoff"],
            handoff_reason=state["handoff_reason"],
        )
        self._record(reply, state, text, conversation)
        return reply

    def _media(self, message: InboundMessage, caption: str | None) -> AgentReply:
        """A voice note, photo or document: its words answered as text when it can be read
        (with what was heard said back when the model was unsure), else `_not_text`."""
        reading = self.media.read(message, caption)
        if reading.question is None:
            return self._not_text(message, reading)
        # The language from the caption, the conversation or the transcript, never from
        # what the media showed (a Sinhala price list does not make a Tamil question Sinhala).
        reply = self._answer(message, reading.question, reading.language)
        echo = reading.heard
        if echo is None or not reply.text or not readable_by(echo, reply.language):
            return reply
        return reply.model_copy(update={"text": f"{heard(reply.language, echo)}\n{reply.text}"})

    def _not_text(self, message: InboundMessage, reading: Reading) -> AgentReply:
        """Media nobody here can read: a person will (the owner is told through the handoff),
        or, for media the agent never reads, the customer is asked to type."""
        persona = self.args.business.persona
        language = reply_language(message.previous_language or "en", persona)
        if reading.kind is None:
            return AgentReply(
                message_id=message.message_id,
                text=text_only(language),
                language=language,
                intent="media",
            )
        key = "daily_limit" if reading.reason == "daily_limit" else reading.kind.value
        self.metrics.handoffs.labels(reading.kind.value).inc()
        log.info(
            "handoff.requested", reason=reading.kind.value, why=reading.reason, language=language
        )
        return AgentReply(
            message_id=message.message_id,
            text=phrase(key, language, persona, self.args.business.display_name),
            language=language,
            intent="media",
            handoff=True,
            handoff_reason=reading.kind.value,
        )

    def _record(
        self, reply: AgentReply, state: dict[str, Any], text: str, conversation: str
    ) -> None:
        backend = state["backend"]
        outcome = "handoff" if reply.handoff else ("answered" if reply.sources else "replied")
        self.metrics.answers.labels(reply.language, reply.intent, backend, outcome).inc()
        if reply.handoff:
            self.metrics.handoffs.labels(reply.handoff_reason or "unknown").inc()
            log.info(
                "handoff.requested",
                reason=reply.handoff_reason,
                intent=reply.intent,
                language=reply.language,
            )
        else:
            log.info(
                "answer.sent",
                intent=reply.intent,
                language=reply.language,
                backend=backend,
                confidence=reply.confidence,
                sources=len(reply.sources),
            )
        # Handed to a person or not answered: the owner's list (grouped on the Answers page).
        if state["unanswered"] or reply.handoff:
            self.unanswered.add(
                state["language"],
                text,
                conversation_id=conversation,
                reason=reply.handoff_reason,
            )


def message_text(message: InboundMessage) -> str | None:
    """What the customer said: the text, a media caption, or the button they picked."""
    if message.text and message.text.strip():
        return message.text
    if message.media is not None and message.media.caption:
        return message.media.caption
    if message.choice is not None and message.choice.title:
        return message.choice.title
    return None


def responder_for(args: AgentAppArgs, settings: AgentSettings) -> Responder:
    if args.llm is None:
        return GroundedResponder()
    # Imported only for a Business with a model: the LLM client is tens of MiB.
    from agent_runtime.generation.llm import DEFAULT_BUDGET_SECONDS, LlmResponder

    key = os.environ.get(args.llm.api_key_env) if args.llm.api_key_env else None
    if key is None and settings.llm_api_key is not None:
        key = settings.llm_api_key.get_secret_value()
    model = args.business.model
    return LlmResponder(
        args.llm,
        api_key=key,
        temperature=model.temperature if model else 0.2,
        max_tokens=model.max_tokens if model else 512,
        timeout_seconds=settings.request_timeout_seconds,
        budget_seconds=model.answer_budget_seconds if model else DEFAULT_BUDGET_SECONDS,
    )


def state_path(index: IndexLocation, settings: AgentSettings) -> Path:
    """Where this tenant's conversations and unanswered questions are written: beside a
    local index unless KATHA_AGENT_STATE_DIR says otherwise; it must for object storage."""
    if settings.state_dir is not None:
        return settings.state_dir
    if not index.is_local:
        raise IndexNotLocalError(
            f"the index is in object storage ({index.uri}): set KATHA_AGENT_STATE_DIR to a "
            "local folder for the agent's conversations and unanswered questions"
        )
    return index.path


def business_of(args: AgentAppArgs) -> Business:
    namespace, name = args.tenant.split("/")
    return Business(metadata=ObjectMeta(name=name, namespace=namespace), spec=args.business)


def local_refresher(args: AgentAppArgs, settings: AgentSettings) -> Refresher:
    """Ingestion in this process, with its own embedder (the query path keeps its own);
    the parsers and the index writer are imported when a refresh first runs."""
    business, places = business_of(args), places_of(args, settings)

    def run() -> Report:
        from ingestion.refresh import Refresh, refresh_business

        refresh = Refresh(
            index_root=index_location(args.index_dir),
            places=places,
            settings=IngestionSettings(),
            progress=False,
        )
        return refresh_business(business, refresh)

    return run


def _sources(state: dict[str, Any]) -> list[Source]:
    sources = [
        Source(
            title=passage.title or passage.source, uri=passage.source_uri, locator=passage.locator
        )
        for passage in state["used"]
    ]
    sources += [Source(title=result.title, uri=result.url) for result in state["web_results"]]
    return sources


def places_of(args: AgentAppArgs, settings: AgentSettings) -> Places:
    """Where the tenant's `file:` and `configMapRef` sources are: the Serve args say so on
    one machine (`katha up`); in a cluster, the mounted volumes in the agent's settings."""
    knowledge = Path(args.knowledge_dir) if args.knowledge_dir else settings.knowledge_dir
    configmaps = Path(args.configmap_dir) if args.configmap_dir else settings.configmap_dir
    return Places(knowledge, configmaps)


def retention_days(args: AgentAppArgs, settings: AgentSettings) -> float:
    """The Business's `spec.memory.retentionDays`, unless KATHA_AGENT_CONVERSATION_RETENTION_DAYS
    is set (the operator sets it to the same value in a cluster)."""
    if "conversation_retention_days" in settings.model_fields_set:
        return settings.conversation_retention_days
    return args.business.memory.retention_days
