"""HTTP downloads with a timeout, a size limit and an allowed set of content types, reaching
only addresses the AddressPolicy allows, on the first request and on every redirect."""

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from ingestion.addresses import AddressPolicy
from ingestion.charset import decode_page, header_charset
from ingestion.egress import ForbiddenAddressError, Resolver, VettedTransport, system_resolver
from ingestion.errors import FailureReason, SourceError

USER_AGENT = "KathaBot/0.1 (+https://github.com/katha-dev/katha)"
MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    content_type: str
    content: bytes
    charset: str | None = None  # the Content-Type header's charset parameter


@dataclass(frozen=True)
class FetchLimits:
    timeout_seconds: float = 20.0
    max_bytes: int = 25 * 1024 * 1024


class VettedClient(httpx.Client):
    """An httpx client whose every connection goes to an address `policy` allows. Knowledge
    is fetched only through one (`fetch` refuses anything else)."""

    def __init__(
        self,
        limits: FetchLimits,
        policy: AddressPolicy,
        resolve: Resolver = system_resolver,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        super().__init__(
            timeout=httpx.Timeout(limits.timeout_seconds),
            # `open_url` follows redirects itself, hop by hop, so each one is reported.
            follow_redirects=False,
            # No proxy from the environment: the check must see the real destination.
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
            transport=VettedTransport(policy, resolve, verify),
        )


def http_client(
    limits: FetchLimits,
    policy: AddressPolicy,
    resolve: Resolver = system_resolver,
    verify: ssl.SSLContext | bool = True,
) -> VettedClient:
    return VettedClient(limits, policy, resolve, verify)


@contextmanager
def open_url(client: VettedClient, url: str, limits: FetchLimits) -> Iterator[httpx.Response]:
    """GET `url`, following up to MAX_REDIRECTS redirects; yields the last response, its
    body not yet read. Network failures, forbidden addresses and redirect loops are
    SourceErrors naming the URL and the hop."""
    if not isinstance(client, VettedClient):
        raise TypeError("knowledge URLs are fetched only with http_client(), which vets addresses")
    hop = url
    try:
        for _ in range(MAX_REDIRECTS + 1):
            with client.stream("GET", hop) as response:
                location = response.headers.get("location")
                if response.status_code in _REDIRECT_STATUSES and location:
                    hop = _next_hop(url, response.url, location)
                    continue
                yield response
                return
        message = f"{url} redirects more than {MAX_REDIRECTS} times"
        raise SourceError(message, FailureReason.HTTP_STATUS)
    except ForbiddenAddressError as error:
        if hop == url:
            raise
        message = f"{url} redirects to {httpx.URL(hop).netloc.decode()}, and {error}"
        raise SourceError(message, error.reason) from error
    except httpx.TimeoutException as error:
        message = f"{url} timed out after {limits.timeout_seconds:g} s"
        raise SourceError(message, FailureReason.TIMEOUT) from error
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        message = f"{url} could not be fetched ({type(error).__name__}: {error})"
        raise SourceError(message, FailureReason.UNREACHABLE) from error


def _next_hop(url: str, current: httpx.URL, location: str) -> str:
    target = current.join(location)
    if target.scheme not in ("http", "https"):
        message = f"{url} redirects to a {target.scheme or 'relative'}: URL, not http(s)"
        raise SourceError(message, FailureReason.UNREACHABLE)
    return str(target)


def fetch(
    client: VettedClient, url: str, limits: FetchLimits, accept: tuple[str, ...] = ()
) -> Fetched:
    """GET `url`; refuse error statuses, content types not starting with one of `accept`
    (any when empty) and bodies over `limits.max_bytes`, each with a SourceError saying so."""
    with open_url(client, url, limits) as response:
        if response.status_code >= 400:
            raise SourceError(f"HTTP {response.status_code} from {url}", FailureReason.HTTP_STATUS)
        header = response.headers.get("content-type", "")
        content_type = header.split(";")[0].strip().lower()
        if accept and not content_type.startswith(accept):
            message = f"{url} is {content_type or 'untyped'}, not {', '.join(accept)}"
            raise SourceError(message, FailureReason.CONTENT_TYPE)
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limits.max_bytes:
            raise SourceError(
                f"{url} is larger than {limits.max_bytes} bytes", FailureReason.TOO_LARGE
            )
        body = bytearray()
        for piece in response.iter_bytes():
            body.extend(piece)
            if len(body) > limits.max_bytes:
                raise SourceError(
                    f"{url} is larger than {limits.max_bytes} bytes", FailureReason.TOO_LARGE
                )
        return Fetched(str(response.url), content_type, bytes(body), header_charset(header))


def decode_html(fetched: Fetched) -> str:
    """A fetched page's text, in the charset its headers, BOM or <meta> tag declare."""
    return decode_page(fetched.content, fetched.charset)
