"""Give freed memory back to the system when a replica goes quiet after answering.

glibc keeps what a process frees: the top of each arena up to a threshold that grows
with the largest buffer freed (up to 64 MiB), and every free page below it. After a
burst of questions a replica over a 5,000-chunk index held 12–14 MiB of such pages
(bench/replica_memory.py), and most shops are quiet most of the day: that is memory a
node keeps for nothing. `malloc_trim(0)` returns them in about a millisecond.

Trimming on every request would cost that millisecond in the answer's path; trimming
on a plain timer would trim idle replicas again and again for nothing. So a thread
looks at the process's CPU time every `check_seconds` (a look costs microseconds).
What the process spent in a look beyond its background (Ray's core worker and Serve's
metrics keep an idle replica at about 1% of a core) counts as work; once work adds up
to WORK_SECONDS and a look finds the process quiet (under QUIET_SHARE of a core), it
trims, once. A burst of questions is trimmed as soon as it ends; a shop's occasional
questions every few of them; what loading the index left behind at the first quiet
look. Nothing is hooked into requests. Where the C library has no `malloc_trim`
(musl), the trimmer does nothing.
"""

import ctypes
import threading
import time
from collections.abc import Callable

from katha.observability import get_logger

log = get_logger("agent")

CHECK_SECONDS = 2.0
BACKGROUND_SHARE = 0.02  # of one core: an idle replica's own threads, not work
QUIET_SHARE = 0.05  # of one core: below this over a look, the process is quiet
WORK_SECONDS = 0.1  # CPU seconds of work since the last trim that make a trim worth it


def find_malloc_trim() -> Callable[[], object] | None:
    """glibc's `malloc_trim(0)`, or None where the C library has none."""
    try:
        # The symbols the interpreter is linked with, its C library's among them: no
        # `ldconfig` run to find libc by name.
        function = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    return lambda: function(0)


class QuietTrimmer:
    """Trims once each time the process goes quiet after work (see the module)."""

    def __init__(
        self,
        trim: Callable[[], object] | None,
        cpu_seconds: Callable[[], float] = time.process_time,
        check_seconds: float = CHECK_SECONDS,
        on_trim: Callable[[], object] = lambda: None,
    ) -> None:
        self._trim = trim
        self._on_trim = on_trim
        self._cpu = cpu_seconds
        self._check = check_seconds
        self._last_look = self._cpu()
        self._work = WORK_SECONDS  # what starting (the model, the index) left behind
        self.trims = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def look(self) -> bool:
        """One look; True when it trimmed. The thread calls this every `check_seconds`."""
        now = self._cpu()
        spent, self._last_look = now - self._last_look, now
        self._work += max(0.0, spent - BACKGROUND_SHARE * self._check)
        if self._trim is None or spent > QUIET_SHARE * self._check:
            return False  # working: what is free now is about to be used again
        if self._work < WORK_SECONDS:
            return False  # too little happened since the last trim
        self._trim()
        self._work = 0.0
        self._last_look = self._cpu()  # the trim's own CPU is not work
        self.trims += 1
        self._on_trim()
        return True

    def start(self) -> "QuietTrimmer":
        if self._trim is None:
            log.info("heap.trim_unavailable")
            return self
        self._thread = threading.Thread(target=self._run, name="heap-trim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self._check + 1)

    def _run(self) -> None:
        while not self._stop.wait(self._check):
            try:
                self.look()
            except Exception:  # a trimmer must never take the replica down
                log.exception("heap.trim_failed")
                return
