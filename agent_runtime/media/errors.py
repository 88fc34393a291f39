"""Why a voice note, photo or document could not be read: the reason labels the failure
metric, and the customer gets the polite reply (or their caption answered) instead."""


class MediaReadError(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
