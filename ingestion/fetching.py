"""HTTP downloads with a timeout, a size limit and an allowed set of content types."""

from dataclasses import dataclass

import httpx

from ingestion.errors import SourceError

USER_AGENT = "KathaBot/0.1 (+https://github.com/katha-dev/katha)"


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    content_type: str
    content: bytes


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
                raise SourceError(f"HTTP {response.status_code} from {url}")
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if accept and not content_type.startswith(accept):
                raise SourceError(f"{url} is {content_type or 'untyped'}, not {', '.join(accept)}")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limits.max_bytes:
                raise SourceError(f"{url} is larger than {limits.max_bytes} bytes")
            body = bytearray()
            for piece in response.iter_bytes():
                body.extend(piece)
                if len(body) > limits.max_bytes:
                    raise SourceError(f"{url} is larger than {limits.max_bytes} bytes")
            return Fetched(str(response.url), content_type, bytes(body))
    except httpx.TimeoutException as error:
        raise SourceError(f"{url} timed out after {limits.timeout_seconds:g} s") from error
    except httpx.HTTPError as error:
        raise SourceError(
            f"{url} could not be fetched ({type(error).__name__}: {error})"
        ) from error


def decode_html(fetched: Fetched) -> str:
    """Pages say their charset in headers or meta tags; UTF-8 is by far the most common."""
    try:
        return fetched.content.decode("utf-8")
    except UnicodeDecodeError:
        return fetched.content.decode("cp1252", errors="replace")
