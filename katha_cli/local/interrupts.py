"""Ctrl-C and SIGTERM during `katha up`: while starting, the first stops after the current
step, the second at once, the third forces; once up, the first stops everything."""

import os
import signal
import threading
from types import FrameType

from katha_cli.local import Say
from katha_cli.local.servers import BackgroundServer

FORCE_AFTER_INTERRUPTS = 3  # the first stops, the second hurries, the third forces


class StartInterruptedError(Exception):
    """Ctrl-C or SIGTERM while starting."""


class Interrupts:
    def __init__(self, say: Say) -> None:
        self.say = say
        self.starting = True
        self._stop = threading.Event()
        self._count = 0

    def catch(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, self._on_signal)

    def checkpoint(self) -> None:
        if self._stop.is_set():
            raise StartInterruptedError

    def request_stop(self) -> None:
        self._stop.set()

    def wait(self, servers: list[BackgroundServer]) -> bool:
        """Block until Ctrl-C or SIGTERM (True), or until a server thread dies (False)."""
        self.catch()
        while not self._stop.wait(0.5):
            dead = [server.name for server in servers if not server.alive()]
            if dead:
                self.say(f"✗ {', '.join(dead)} stopped unexpectedly; shutting down")
                return False
        return True

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._count += 1
        if not self._stop.is_set():
            self._stop.set()
            if self.starting:
                self.say("  stopping after this step (Ctrl-C again to stop at once)")
            return
        if self.starting and self._count == 2:
            raise KeyboardInterrupt  # out of whatever step is running; stop() cleans up
        if self._count >= FORCE_AFTER_INTERRUPTS:
            self.say("  forced to stop; Ray may leave processes behind (`ray stop` ends them)")
            os._exit(130)
        self.say("  still stopping (Ctrl-C once more to force)")
