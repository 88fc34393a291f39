"""The one way a step of answering a message says "not now": the inbox keeps the message and
hands it to a worker again after `delay` seconds (an agent that is down, a Graph API outage
while fetching a customer's media)."""


class RetryLaterError(Exception):
    def __init__(self, delay: float, reason: str) -> None:
        super().__init__(reason)
        self.delay = delay
