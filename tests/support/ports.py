"""A free loopback port for a server that a test or a benchmark starts: the one helper for
tests and bench/ (the one-machine runner keeps its own, katha_cli.local.servers)."""

import socket


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port
