"""Connections for knowledge URLs: resolve the host once, vet every address it resolves to,
and connect to one of those very addresses.

Checking and connecting on the same resolution is the point: a check that resolves the
name and a connection that resolves it again can be told two different answers (DNS
rebinding), and the second one would go unchecked. TLS still runs against the URL's host
name (httpcore passes it for SNI and certificate checks), and the Host header is the URL's.
"""

import socket
import ssl
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx

from ingestion.addresses import AddressKind, AddressPolicy, parse_address, refusal
from ingestion.errors import FailureReason, SourceError
from katha.observability import get_logger

log = get_logger("ingestion")

# A host name and port to the addresses they resolve to, as strings, in the order to try.
Resolver = Callable[[str, int], list[str]]

_HINTS = {
    AddressKind.LOOPBACK: "KATHA_INGEST_ALLOW_LOOPBACK=true",
    AddressKind.PRIVATE: "KATHA_INGEST_ALLOW_PRIVATE=true",
}


class ForbiddenAddressError(SourceError):
    """A knowledge URL's host resolves to an address ingestion must not reach."""

    def __init__(self, host: str, address: str, kind: AddressKind) -> None:
        where = f"{address} is" if host == address else f"{host} resolves to {address},"
        message = f"{where} a {kind} address, which knowledge sources may not reach"
        if kind in _HINTS:
            message += f" (on a trusted machine, set {_HINTS[kind]} or list its range in "
            message += "KATHA_INGEST_ALLOWED_CIDRS)"
        super().__init__(message, FailureReason.BLOCKED_ADDRESS)
        self.host, self.address, self.kind = host, address, kind


def system_resolver(host: str, port: int) -> list[str]:
    """Every address getaddrinfo gives for `host`, IPv4 and IPv6, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise httpcore.ConnectError(f"{host} does not resolve ({error})") from error
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class VettedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, refusing hosts that resolve to a forbidden address."""

    def __init__(self, policy: AddressPolicy, resolve: Resolver = system_resolver) -> None:
        self._policy = policy
        self._resolve = resolve

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,  # httpcore's SOCKET_OPTION tuples
    ) -> httpcore.NetworkStream:
        addresses = self._resolve(host, port)
        if not addresses:
            raise httpcore.ConnectError(f"{host} resolves to no address")
        # Any forbidden answer refuses the host: which address a connection would get is
        # the resolver's choice, not ours.
        for address in addresses:
            kind = refusal(parse_address(address), self._policy)
            if kind is not None:
                log.warning("fetch.address_refused", host=host, address=address, kind=str(kind))
                raise ForbiddenAddressError(host, address, kind)
        failure = httpcore.ConnectError(f"{host} could not be reached")
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as error:
                failure = error
        raise failure


class VettedTransport(httpx.HTTPTransport):
    """httpx's transport, connecting only through a VettedBackend."""

    def __init__(
        self,
        policy: AddressPolicy,
        resolve: Resolver = system_resolver,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        super().__init__(verify=verify, trust_env=False)
        limits = httpx.Limits(max_connections=20, max_keepalive_connections=10)
        # httpx has no public way to choose httpcore's network backend: the pool it built
        # is replaced by one that connects through the vetting backend.
        self._pool.close()
        self._pool = httpcore.ConnectionPool(
            # SSL_CERT_FILE / SSL_CERT_DIR still count: they name CAs, not destinations.
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=True),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=VettedBackend(policy, resolve),
        )
