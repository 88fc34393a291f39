"""A replica gives freed memory back once it goes quiet after work, never while it works,
and never for the background an idle replica always spends."""

import ctypes
from pathlib import Path

from agent_runtime.heap import (
    BACKGROUND_SHARE,
    CHECK_SECONDS,
    QUIET_SHARE,
    WORK_SECONDS,
    QuietTrimmer,
    find_malloc_trim,
)

IDLE = 0.5 * BACKGROUND_SHARE * CHECK_SECONDS  # what an idle replica spends in a look


class Process:
    """The process's CPU clock, moved by hand; counts trims."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.trimmed = 0

    def spend(self, seconds: float) -> None:
        self.cpu += seconds

    def trim(self) -> None:
        self.trimmed += 1


def trimmer(process: Process) -> tuple[QuietTrimmer, list[int]]:
    told: list[int] = []
    found = QuietTrimmer(
        process.trim, cpu_seconds=lambda: process.cpu, on_trim=lambda: told.append(1)
    )
    return found, told


def test_a_burst_is_trimmed_once_when_it_ends_and_idling_never_is() -> None:
    process = Process()
    trims, told = trimmer(process)
    process.spend(IDLE)
    assert trims.look()  # what starting left behind, at the first quiet look
    for _ in range(100):  # an idle replica: Ray's and Serve's own threads
        process.spend(IDLE)
        assert not trims.look()
    for _ in range(5):  # a burst of questions: busy looks, nothing trimmed under it
        process.spend(CHECK_SECONDS * 0.8)
        assert not trims.look()
    process.spend(IDLE)
    assert trims.look()  # the first quiet look after the burst
    for _ in range(100):
        process.spend(IDLE)
        assert not trims.look()
    assert (process.trimmed, trims.trims, len(told)) == (2, 2, 2)


def test_occasional_questions_add_up_to_a_trim() -> None:
    process = Process()
    trims, _ = trimmer(process)
    process.spend(IDLE)
    assert trims.look()  # after starting
    question = 0.04  # one question's CPU: each look with one stays quiet
    assert question + IDLE < QUIET_SHARE * CHECK_SECONDS
    looks = 0
    while not trims.look():
        process.spend(IDLE + question)
        looks += 1
        assert looks < 100
    # Each look's work is what it spent beyond the background allowance.
    per_look = IDLE + question - BACKGROUND_SHARE * CHECK_SECONDS
    assert abs(looks - WORK_SECONDS / per_look) <= 1
    assert process.trimmed == 2


def test_without_malloc_trim_nothing_is_done() -> None:
    process = Process()
    trims = QuietTrimmer(None, cpu_seconds=lambda: process.cpu)
    process.spend(10.0)
    assert not trims.look()
    assert trims.start() is trims  # starts no thread
    trims.stop()


def test_the_c_library_here_has_malloc_trim_and_it_gives_memory_back() -> None:
    trim = find_malloc_trim()
    assert trim is not None  # glibc: the image's and CI's C library
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    # 64 MiB in blocks below the mmap threshold, from the heap, then freed but one at the
    # top that pins it: glibc keeps the pages until they are trimmed.
    blocks = [libc.malloc(64 * 1024) for _ in range(1024)]
    for block in blocks:
        ctypes.memset(block, 1, 64 * 1024)
    for block in blocks[:-1]:
        libc.free(block)
    before = _rss_kib()
    trim()
    after = _rss_kib()
    libc.free(blocks[-1])
    assert before - after > 32 * 1024, (before, after)


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")
