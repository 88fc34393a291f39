"""The messages one Redis replica has read and not yet finished, queued per conversation in
stream order, so a conversation's next message waits for the one before it."""

from collections import deque
from dataclasses import dataclass, field

from router.envelope import Envelope


@dataclass(slots=True)
class Held:
    entry_id: str
    envelope: Envelope
    available_at: float = 0.0
    attempts: int = 0


@dataclass(slots=True)
class HeldQueues:
    by_conversation: dict[str, deque[Held]] = field(default_factory=dict)
    known: set[str] = field(default_factory=set)
    busy: set[str] = field(default_factory=set)

    def add(self, held: Held) -> None:
        if held.entry_id in self.known:
            return
        self.known.add(held.entry_id)
        queue = self.by_conversation.setdefault(held.envelope.conversation_id, deque())
        queue.append(held)
        if len(queue) > 1 and entry_order(queue[-2].entry_id) > entry_order(held.entry_id):
            self.by_conversation[held.envelope.conversation_id] = deque(
                sorted(queue, key=lambda item: entry_order(item.entry_id))
            )

    def remove(self, conversation: str, entry_id: str) -> None:
        queue = self.by_conversation.get(conversation, deque())
        self.by_conversation[conversation] = deque(h for h in queue if h.entry_id != entry_id)
        if not self.by_conversation[conversation]:
            del self.by_conversation[conversation]
        self.known.discard(entry_id)
        self.busy.discard(conversation)


def entry_order(entry_id: str) -> tuple[int, int]:
    millis, _, seq = entry_id.partition("-")
    return int(millis), int(seq or 0)
