"""One `katha up` per state folder: they would share the inbox, outbox and indexes."""

import fcntl
import os
from pathlib import Path


class StateLockedError(RuntimeError):
    pass


def lock_state_dir(state_dir: Path) -> int:
    """Hold an exclusive flock on STATE_DIR/lock; the descriptor keeps it until closed."""
    descriptor = os.open(state_dir / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise StateLockedError(
            f"another `katha up` is using {state_dir}; stop it first, or give this one "
            "its own --state-dir"
        ) from None
    return descriptor


def unlock(descriptor: int) -> None:
    os.close(descriptor)  # releases the flock
