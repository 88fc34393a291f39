"""What the console's endpoints share for the life of the app, built by `create_app`."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from console.businesses import Businesses
from console.router_client import RouterAdmin
from console.settings import ConsoleSettings
from katha.store import ConversationStore


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ConsoleServices:
    settings: ConsoleSettings
    store: ConversationStore
    router: RouterAdmin
    clock: Callable[[], datetime] = field(default=utc_now)
    # Where Businesses are read and changed (settings, FAQs, re-index); None: not set up,
    # and those pages say so.
    businesses: Businesses | None = None
