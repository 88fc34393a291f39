"""The router's Prometheus metrics, in the app's own registry."""

from prometheus_client import Counter, Gauge, Histogram

from katha.observability import Metrics


class RouterMetrics:
    def __init__(self, metrics: Metrics | None = None) -> None:
        self.metrics = metrics if metrics is not None else Metrics("router")
        m = self.metrics
        self.webhooks: Counter = m.counter("webhooks_total", "Webhook POSTs by result.", ["result"])
        self.messages: Counter = m.counter(
            "messages_total", "Customer messages handled.", ["tenant", "type"]
        )
        self.answers: Counter = m.counter(
            "answers_total",
            "Agent answers, by the language the agent found and answered in.",
            ["tenant", "language"],
        )
        self.held: Counter = m.counter(
            "held_total",
            "Customer messages kept for the owner and answered by nobody automatically, by "
            "reason (paused: the owner paused the agent).",
            ["tenant", "reason"],
        )
        self.statuses: Counter = m.counter(
            "statuses_total", "Delivery statuses received.", ["status"]
        )
        self.inbox_depth: Gauge = m.gauge("inbox_depth", "Messages accepted, not yet answered.")
        self.inbox_age: Gauge = m.gauge(
            "inbox_oldest_age_seconds", "Age of the oldest unanswered message."
        )
        self.forward_seconds: Histogram = m.histogram(
            "forward_seconds", "Time the tenant's agent took to answer.", ["tenant"]
        )
        self.forwards: Counter = m.counter(
            "forwards_total", "Calls to tenant agents by result.", ["tenant", "result"]
        )
        self.retries: Counter = m.counter(
            "retries_total",
            "Messages put back in the inbox to be tried again later, by reason "
            "(agent_unavailable, circuit_open, graph_api_unavailable, media_unavailable, "
            "owner_notice_paced, unexpected_error).",
            ["tenant", "reason"],
        )
        self.handoffs: Counter = m.counter(
            "handoffs_total", "Conversations handed to a person.", ["tenant"]
        )
        self.owner_takeovers: Counter = m.counter(
            "owner_takeovers_total",
            "Conversations the owner took over by replying from the WhatsApp Business app.",
            ["tenant"],
        )
        self.dead_letters: Counter = m.counter(
            "dead_letters_total",
            "Inbox entries that could not be loaded, moved to the dead letters.",
            ["tenant", "reason"],
        )
        self.sends: Counter = m.counter(
            "sends_total", "Graph API sends by result and error code.", ["result", "code"]
        )
        self.account_signals: Counter = m.counter(
            "account_signals_total",
            "Meta's account-wide webhooks applied to a tenant, by signal and event "
            "(account_update, phone_number_quality_update, message_template_status_update).",
            ["tenant", "signal", "event"],
        )
        self.messaging_restricted: Gauge = m.gauge(
            "messaging_restricted",
            "1 while Meta restricts the tenant's messaging, by kind (business_initiated, "
            "customer_initiated).",
            ["tenant", "kind"],
        )
        self.templates_sent: Counter = m.counter(
            "templates_sent_total",
            "Templates sent (or not) for what had to go outside a 24-hour window, by purpose "
            "and result.",
            ["tenant", "purpose", "result"],
        )
        self.marketing_preferences: Counter = m.counter(
            "marketing_preferences_total",
            "Customers who stopped or resumed marketing messages.",
            ["tenant", "value"],
        )
        self.identity_changes: Counter = m.counter(
            "identity_changes_total",
            "Customers whose WhatsApp id changed (new number or BSUID), by whether their "
            "conversation was found and carried over.",
            ["tenant", "result"],
        )
        self.business_status_writes: Counter = m.counter(
            "business_status_writes_total",
            "Writes of Meta's signals into Businesses' status: written, retried, failed.",
            ["result"],
        )
        self.history_pending: Gauge = m.gauge(
            "history_pending",
            "Conversation events waiting to be written to the conversation store.",
        )
        self.history_writes: Counter = m.counter(
            "history_writes_total",
            "Conversation events written to the store, failed batches and dropped events.",
            ["result"],
        )
        self.media: Counter = m.counter(
            "media_total",
            "Customers' media by type and outcome (fetched, reused, too_large, "
            "type_not_allowed, download_failed, daily_limit, retry_later).",
            ["tenant", "type", "outcome"],
        )
        self.media_bytes: Counter = m.counter(
            "media_bytes_total",
            "Bytes of customers' media fetched from the Graph API.",
            ["tenant", "type"],
        )
