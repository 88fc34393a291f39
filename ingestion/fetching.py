"""HTTP downloads with a timeout, a size limit and an allowed set of content types."""

from dataclasses import dataclass

import httpx

from ingestion.charset import decode_page, header_charset
from ingestion.errors import FailureReason, SourceError

USER_AGENT = "KathaBot/0.1 (+https://github.com/katha-dev/katha)"


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


def http_client(limits: FetchLimits) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(limits.timeout_seconds),
        follow_redirects=True,
        max_redirects=5,
        headers={"User-Agent": USER_AGENT},
    )


def fetch(
    client: httpx.Client, url: str, limits: FetchLimits, accept: tuple[str, ...] = ()
) -> Fetched:
    """GET `url`; refuse error statuses, content types not starting with one of `accept`
    (any when empty) and bodies over `limits.max_bytes`, each with a SourceError saying so."""
    try:
        with client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise SourceError(
                    f"HTTP {response.status_code} from {url}", FailureReason.HTTP_STATUS
                )
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
    except httpx.TimeoutException as error:
        message = f"{url} timed out after {limits.timeout_seconds:g} s"
        raise SourceError(message, FailureReason.TIMEOUT) from error
    except httpx.HTTPError as error:
        message = f"{url} could not be fetched ({type(error).__name__}: {error})"
        raise SourceError(message, FailureReason.UNREACHABLE) from error


def decode_html(fetched: Fetched) -> str:
    """A fetched page's text, in the charset its headers, BOM or <meta> tag declare."""
    return decode_page(fetched.content, fetched.charset)
