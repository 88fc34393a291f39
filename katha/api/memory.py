"""How long a Business's agent remembers conversations, and where it keeps them."""

from pydantic import Field

from katha.api.base import ApiModel
from katha.api.refs import SecretKeyRef

# The agent's own bounds (KATHA_AGENT_CONVERSATION_RETENTION_DAYS): ten years at most.
MAX_RETENTION_DAYS = 3650
DEFAULT_RETENTION_DAYS = 30


class Postgres(ApiModel):
    secret_key_ref: SecretKeyRef = Field(
        description=(
            "The key of a Secret in the Business's namespace that holds the connection URL, "
            "e.g. postgresql://katha:PASSWORD@postgres.databases.svc:5432/katha. The agent "
            "gets it as KATHA_AGENT_POSTGRES_URL through a secretKeyRef: the operator only "
            "checks that the key exists and never copies the URL. The agent pods do not "
            "start until the Secret and key exist."
        )
    )


class Memory(ApiModel):
    retention_days: float = Field(
        default=DEFAULT_RETENTION_DAYS,
        gt=0,
        le=MAX_RETENTION_DAYS,
        description=(
            "Days a conversation (and an unanswered question) is kept after its last "
            "message; older ones are deleted. Fractions are allowed, e.g. 0.5 for 12 hours."
        ),
    )
    postgres: Postgres | None = Field(
        default=None,
        description=(
            "Keep conversations in this Postgres database, shared by every agent replica "
            "and kept when the index volume is replaced. Without it they are kept in SQLite "
            "on the index volume."
        ),
    )
