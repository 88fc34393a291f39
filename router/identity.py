"""Which conversation a customer's message belongs to, whatever id WhatsApp names them by.

Since 2026 a customer may have a business-scoped user id (BSUID, `user_id`) and no phone
number that Meta shares, and the BSUID changes when they change number. Everything the
router and the agent keep (handoff state, rate limits, the agent's memory) is keyed by one
pseudonymous conversation id, so the ids a customer is known by are tied to one:
- a customer's conversation id is made from their BSUID when they have one, else from
  their phone number (`conversation_id`);
- when a message names both, the phone number's id becomes an alias of it, so a later
  message that names only the phone number (an older webhook, a status) finds it too;
- when Meta says the customer's id changed (`user_changed_user_id`, `user_changed_number`),
  the new ids become aliases of the conversation the old one led to.
An alias is one record per id (`alias:<conversation id>` in the inbox, pseudonymous:
never a number in clear), renewed by each message and gone ALIAS_TTL_SECONDS after the
last; it is rewritten only by an identity change or to join a number to its BSUID, and
followed one step: it always names a conversation that leads to itself.
"""

from router.envelope import conversation_id
from router.inbox.base import RECORD_FAMILY, ConversationState, Inbox
from router.notification import Sender

ALIAS = "alias:"
# An alias lives this long after the customer's last message (each message renews it):
# longer than any conversation memory a customer would expect back after a silence.
ALIAS_TTL_SECONDS = 400 * 86400.0


def _ids(key: bytes, phone_number_id: str, sender: Sender) -> list[str]:
    """The conversation ids this sender's ids make, BSUID first."""
    return [
        conversation_id(key, phone_number_id, value)
        for value in (sender.user_id, sender.wa_id, None if sender.user_id else sender.username)
        if value
    ]


async def _followed(inbox: Inbox, candidate: str) -> str:
    return await inbox.record(ALIAS + candidate) or candidate


async def resolve(inbox: Inbox, key: bytes, phone_number_id: str, sender: Sender) -> str:
    """The conversation `sender` writes in, learning that their ids go together.

    The first message that names a BSUID settles its conversation: the one its phone
    number already leads to (a customer who wrote before BSUIDs, an owner's echo or notice
    that named only the number), else its own. The BSUID is then recorded as leading
    there (even to itself), so later messages cost a read or two. A phone number that led
    nowhere, or only to itself, is pointed at the settled conversation.
    """
    ids = _ids(key, phone_number_id, sender)
    if not ids:
        return conversation_id(key, phone_number_id, "")
    conversation = await inbox.record(ALIAS + ids[0])
    if conversation is not None:
        await inbox.save_record(ALIAS + ids[0], conversation, ttl_seconds=ALIAS_TTL_SECONDS)
    else:
        conversation = ids[0]
        for other in ids[1:]:
            known = await inbox.record(ALIAS + other)
            if known is None and await inbox.conversation(other) != ConversationState():
                known = other  # kept before aliases were: a conversation all the same
            if known is not None:
                conversation = known
                break
        settled = await inbox.save_record(
            ALIAS + ids[0], conversation, only_new=True, ttl_seconds=ALIAS_TTL_SECONDS
        )
        if not settled:
            # Another replica settled it a moment ago: its answer is the one.
            conversation = await inbox.record(ALIAS + ids[0]) or conversation
    for other in ids[1:]:
        if other != conversation and await inbox.record(ALIAS + other) in (None, other):
            await inbox.save_record(ALIAS + other, conversation, ttl_seconds=ALIAS_TTL_SECONDS)
    return conversation


async def merge(
    inbox: Inbox, key: bytes, phone_number_id: str, previous: Sender, current: Sender
) -> str | None:
    """After Meta said `previous` is now `current`: the new ids lead to the conversation
    the old ones did (its memory, handoff and limits go on). The conversation id, or None
    when the old ids are unknown (then the new ones start afresh, as Meta's own would)."""
    old = _ids(key, phone_number_id, previous)
    if not old:
        return None
    conversation = await _followed(inbox, old[0])
    for new in _ids(key, phone_number_id, current):
        if new != conversation:
            await inbox.save_record(ALIAS + new, conversation, ttl_seconds=ALIAS_TTL_SECONDS)
    return conversation


def _whole(conversation: str) -> str:
    """A conversation id that names one record: a name ending in ":" would name a family
    of them (Inbox.records_named), other customers' aliases with it."""
    if not conversation or conversation.endswith(RECORD_FAMILY):
        raise ValueError("not a conversation id")
    return conversation


async def aliases_of(inbox: Inbox, conversation: str) -> dict[str, str]:
    """The alias records that lead to `conversation` (its own included), by name: the
    pseudonymous ids a customer is known by, for their data export."""
    found = await inbox.records_named(ALIAS, value=_whole(conversation))
    own = await inbox.record(ALIAS + conversation)
    if own is not None:
        found[ALIAS + conversation] = own
    return found


async def forget_aliases(inbox: Inbox, conversation: str) -> int:
    """Delete every alias that leads to `conversation`, and its own: the customer's next
    message starts a new conversation with nothing of the old one. How many went."""
    gone = await inbox.forget_records(ALIAS, value=_whole(conversation))
    return gone + await inbox.forget_records(ALIAS + conversation)
