"""Messages the business starts: the owner's handoff notice, the customer's follow-up when
a handoff ends, the re-opening message when an answer comes after the window closed.

Inside the recipient's 24-hour window the words go as they are; outside it, as the
Business's approved template for that purpose (router.templates decides which, and
whether one may go at all). Either way what happened is counted in
`katha_router_templates_sent_total{purpose,result}` and logged, never silently dropped.
"""

from dataclasses import dataclass

from katha.contracts.routing import Route
from katha.observability import get_logger
from router.account import account_state, marketing_stopped
from router.conversations import window_open
from router.envelope import Recipient
from router.graph_api import (
    GraphApiClient,
    GraphApiError,
    GraphApiUnavailableError,
    OutsideWindowError,
)
from router.inbox.base import Inbox
from router.metrics import RouterMetrics
from router.templates import Chosen, Purpose, choose

log = get_logger("router")


@dataclass(frozen=True)
class Outgoing:
    """One business-initiated message: to whom, in which conversation, and what."""

    purpose: Purpose
    recipient: Recipient
    conversation_id: str  # the recipient's own conversation (its window, its opt-out)
    text: str | None  # the free-form words, when the window is open (None: template only)
    parameters: list[str]  # the template's body parameters
    language: str | None  # what the recipient reads, if known


# Meta refuses a template parameter with a new line, a tab or more than four spaces in a
# row; a customer's name or the agent's reason may have any of them.
PARAMETER_MAX_CHARS = 200


def template_parameter(value: str) -> str:
    """`value` as Meta accepts it in a template body: one line, bounded, never empty."""
    text = " ".join(value.split())
    if len(text) > PARAMETER_MAX_CHARS:
        text = text[: PARAMETER_MAX_CHARS - 1].rstrip() + "…"
    return text or "-"


class Outreach:
    def __init__(
        self, inbox: Inbox, graph: GraphApiClient, metrics: RouterMetrics, window_seconds: float
    ) -> None:
        self._inbox = inbox
        self._graph = graph
        self._metrics = metrics
        self._window = window_seconds

    def pair_turn(self, phone_number_id: str, recipient: Recipient, message_id: str) -> float:
        """Seconds until `message_id`'s message to `recipient` may go from this number (0:
        now); a message asking again keeps its turn."""
        return self._graph.pair_turn(phone_number_id, recipient, message_id)

    async def send(self, route: Route, phone_number_id: str, outgoing: Outgoing) -> bool:
        """Send it as words or as a template; True when Meta accepted it. Raises
        GraphApiUnavailableError (try later) when Meta is throttling or down."""
        token = route.credentials.access_token.get_secret_value()
        state = await self._inbox.conversation(outgoing.conversation_id)
        account = await account_state(self._inbox, route.tenant)
        if outgoing.text is not None and window_open(state, self._window):
            if not account.may_reply():
                return self._count(route, outgoing, "restricted")
            try:
                await self._graph.send_text(
                    phone_number_id, token, outgoing.recipient, outgoing.text
                )
                return self._count(route, outgoing, "free_form")
            except OutsideWindowError:
                pass  # the window closed meanwhile (or Meta counts it otherwise): a template
            except GraphApiUnavailableError:
                raise
            except GraphApiError as error:
                log.error("outreach.failed", purpose=outgoing.purpose, code=error.code)
                return self._count(route, outgoing, "failed")
        stopped = await marketing_stopped(self._inbox, outgoing.conversation_id)
        chosen = choose(
            route, outgoing.purpose, account, outgoing.language, marketing_stopped=stopped
        )
        if not isinstance(chosen, Chosen):
            log.warning("template.not_sent", purpose=outgoing.purpose, reason=chosen)
            return self._count(route, outgoing, chosen)
        parameters = [template_parameter(value) for value in outgoing.parameters]
        try:
            # An authentication template's code goes in its copy-code button as well.
            code = parameters[0] if outgoing.purpose == "login_code" else None
            await self._graph.send_template(
                phone_number_id,
                token,
                outgoing.recipient,
                chosen.name,
                chosen.language,
                parameters,
                copy_code=code,
            )
        except GraphApiUnavailableError:
            raise
        except GraphApiError as error:
            log.error("template.failed", purpose=outgoing.purpose, code=error.code)
            return self._count(route, outgoing, "failed")
        log.info("template.sent", purpose=outgoing.purpose, template=chosen.name)
        return self._count(route, outgoing, "template")

    def _count(self, route: Route, outgoing: Outgoing, result: str) -> bool:
        self._metrics.templates_sent.labels(route.tenant, outgoing.purpose, result).inc()
        return result in ("free_form", "template")
