"""The owner's own words in a conversation's memory (`POST /v1/notes`).

When the owner answers a customer from the WhatsApp Business app, the router hands the
conversation to them and sends the agent an echo of what they wrote. The agent keeps it in
that conversation's history as the owner's turn, so that once the conversation comes back
the answers take it into account ("your cake will be ready at 5 pm" is not contradicted).
Nothing runs and nothing is answered: the note is written into the conversation's latest
checkpoint, where it is forgotten with the rest of the conversation.
"""

from datetime import timedelta
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph

from agent_runtime.clock import Clock
from agent_runtime.languages import customer_language
from agent_runtime.memory import expired, forget, keep_latest
from agent_runtime.state import Turn
from katha.contracts.messages import OwnerNote
from katha.lang import normalize
from katha.observability import get_logger

log = get_logger("agent")
# The note is written as this node's update. Its only edge goes to END, so the conversation
# is left as a finished message leaves it, with nothing to run next; the next message starts
# from START as always.
NOTE_WRITER = "translate_response"


def keep_note(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    saver: BaseCheckpointSaver[Any],
    note: OwnerNote,
    retention: timedelta,
    clock: Clock,
) -> bool:
    """Add the owner's note to its conversation's history, once per message id.

    True when it was kept; False for a redelivered echo or a note with no words. The
    router sends a conversation's notes and messages one at a time, so nothing here races
    with a message of the same conversation.
    """
    conversation = note.conversation_id
    if expired(saver, conversation, retention, clock):
        forget(saver, conversation)  # as a message would: the old conversation is gone
    config: Any = {"configurable": {"thread_id": conversation}}
    if note.message_id in graph.get_state(config).values.get("noted", []):
        log.info("owner_note.repeated")
        return False
    text = normalize(note.text)
    if not text:
        return False
    language, _ = customer_language(text, None)
    update = {"history": [Turn("owner", text, language)], "noted": [note.message_id]}
    graph.update_state(config, update, as_node=NOTE_WRITER)
    keep_latest(saver, conversation)
    log.info("owner_note.kept", language=language)
    return True
