"""ASGI apps served by uvicorn on a background thread, on a socket bound up front so that
a port already in use is reported before anything else starts."""

import asyncio
import ctypes
import ctypes.util
import errno
import socket
import sys
import threading
import time
from typing import Any

import uvicorn


class PortInUseError(RuntimeError):
    pass


def bind(host: str, port: int, what: str) -> socket.socket:
    # IPPROTO_TCP named, not left 0: asyncio switches Nagle's algorithm off only on
    # sockets that say they are TCP, and with it on, a response written in two parts
    # (uvicorn's headers, then its body) waited ~40 ms for the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUseError(
                f"{what}: port {port} on {host} is in use (is another `katha up` running?)"
            ) from None
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def os_thread_name(name: str) -> None:
    """Name the calling thread for the operating system too (top -H, /proc/PID/task/*/comm):
    one process runs the router, the console and the local Graph API, and a benchmark or
    an operator tells their CPU apart by it. Linux keeps 15 bytes; elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    pr_set_name = 15
    libc.prctl(pr_set_name, name.encode()[:15], 0, 0, 0)


class BackgroundServer:
    def __init__(self, app: Any, sock: socket.socket, name: str, **config: Any) -> None:
        self.name = name
        self.sock = sock
        host, port = sock.getsockname()[:2]
        self.url = f"http://{host}:{port}"
        self.port = int(port)
        self._server = uvicorn.Server(
            uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", **config)
        )
        self._thread = threading.Thread(target=self._run, name=f"server-{name}", daemon=True)
        self._failure: BaseException | None = None

    def _run(self) -> None:
        os_thread_name(f"katha-{self.name}")
        try:
            asyncio.run(self._server.serve(sockets=[self.sock]))
        except BaseException as error:  # reported by start() and alive()
            self._failure = error

    def start(self, timeout: float = 30.0) -> "BackgroundServer":
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                reason = repr(self._failure) if self._failure else "it did not start in time"
                raise RuntimeError(f"{self.name} failed to start: {reason}")
            time.sleep(0.02)
        return self

    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 15.0) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(5)
        self.sock.close()
