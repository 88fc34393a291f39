"""Who may route a WhatsApp number: the first Business to claim it keeps it.

A claim is a Business's entry in the routing table stamped with when it first got that
number (`Route.claimed_at`). A later Business naming the same phoneNumberId gets no route
and a condition naming the holder, until the holder lets go (deleted, or another number);
its drift timer then claims the number. "First" is the table's durable record, not the
Business's age: a Business created long ago that switches to a number held by another
must not take it over. Pure: routing_table.py reads and writes the table around it.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from business_operator.status import Check
from katha.contracts.routing import Route, claim_order


@dataclass(frozen=True)
class Claim:
    """The entry to write for a Business, or the Business that holds its number instead."""

    route: Route | None  # None: this Business must have no entry
    owner: str | None  # `namespace/name` of the holder, when it is not this Business


def claim(wanted: Route, table: Sequence[Route], created: datetime, now: datetime) -> Claim:
    """Decide `wanted`'s entry against `table` (every entry, each with a claim time).

    An entry of this Business for the same number keeps its claim time; one written
    before claim times existed counts from the Business's creation (`created`). A new
    claim counts from `now`. The router breaks ties with the same order (`claim_order`),
    so when two first claims race, both sides agree on who keeps the number.
    """
    held = next(
        (
            route
            for route in table
            if route.tenant == wanted.tenant and route.phone_number_id == wanted.phone_number_id
        ),
        None,
    )
    since = now if held is None else (held.claimed_at or created)
    mine = wanted.model_copy(update={"claimed_at": since})
    rivals = [
        route
        for route in table
        if route.phone_number_id == wanted.phone_number_id and route.tenant != wanted.tenant
    ]
    first = min([mine, *rivals], key=claim_order)
    if first is mine:
        return Claim(route=mine, owner=None)
    return Claim(route=None, owner=first.tenant)


def number_claimed(phone_number_id: str, owner: str) -> Check:
    """The WhatsAppConfigured condition of a Business refused a number another one holds."""
    message = (
        f"phoneNumberId {phone_number_id} is already routed to Business {owner}, which "
        f"claimed it first: this Business gets no messages until {owner} is deleted or "
        f"moves to another number, or until spec.whatsapp.phoneNumberId names another number"
    )
    return Check(False, "PhoneNumberClaimed", message)


def creation_time(body: Mapping[str, Any]) -> datetime | None:
    """An object's `metadata.creationTimestamp` (RFC 3339, UTC), when it has one."""
    stamp = (body.get("metadata") or {}).get("creationTimestamp")
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
