"""WhatsApp's Graph API as the router meets it: POST /{version}/{phone_number_id}/messages,
answered like Meta does, every call recorded. Customers' media too: GET /{version}/{media-id}
answers its metadata with a short-lived download URL on this same server (with credentials
in its query, as Meta's are), and GET on that URL the bytes; both check the Bearer token.
Served as an ASGI app (`ServerThread`)."""

import asyncio
import hashlib
import secrets
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

DOWNLOAD_PATH = "/whatsapp_business/attachments/"


@dataclass
class MediaFile:
    """One customer's media as Meta holds it. `token`: the only access token that may read
    it (the tenant's). `declared_size` / `sha256`: what the metadata says, when it should
    not be the truth (None: the real size and hash; "" for `sha256`: none given).
    `endless`: `content` sent again and again in chunks, with no Content-Length, until the
    reader hangs up (only a reader that counts what arrives ever stops). `trickle`: one
    byte every 0.1 s, never more, until the reader hangs up (only a reader with an overall
    deadline ever stops). `url`: the download URL the metadata gives, as a hostile or
    broken answer might (None: this server's own, with its credentials)."""

    content: bytes
    mime_type: str
    token: str
    declared_size: int | None = None
    sha256: str | None = None
    endless: bool = False
    trickle: bool = False
    url: str | None = None


@dataclass
class MediaCall:
    step: str  # "metadata" or "download"
    media_id: str
    authorization: str | None
    url: str


def _graph_error(status: int, code: int, message: str) -> JSONResponse:
    error = {"message": message, "type": "OAuthException", "code": code}
    return JSONResponse({"error": error}, status_code=status)


@dataclass
class GraphCall:
    phone_number_id: str
    body: dict[str, Any]
    authorization: str | None
    at: float

    @property
    def text(self) -> str | None:
        text = self.body.get("text")
        return text.get("body") if isinstance(text, dict) else None

    @property
    def to(self) -> str | None:
        return self.body.get("to") or self.body.get("recipient")

    @property
    def template(self) -> tuple[str, str, list[str]] | None:
        """(name, language code, body parameters) of a template message."""
        if self.body.get("type") != "template":
            return None
        template = self.body["template"]
        body = [c for c in template.get("components", []) if c.get("type") == "body"]
        parameters = [p["text"] for c in body for p in c.get("parameters", [])]
        return template["name"], template["language"]["code"], parameters

    @property
    def reply_to(self) -> str | None:
        return (self.body.get("context") or {}).get("message_id")

    @property
    def is_read_receipt(self) -> bool:
        return self.body.get("status") == "read"


@dataclass
class GraphApi:
    """Records POST /{version}/{phone_number_id}/messages; answers errors from `failures`
    first (HTTP status, Meta error code), then success like the real API."""

    version: str = "v23.0"
    url: str = ""  # the base the router is given, `{server}/{version}`, once served
    calls: list[GraphCall] = field(default_factory=list)
    failures: list[tuple[int, int]] = field(default_factory=list)
    # Errors answered first to messages for one recipient (by number), as `failures`.
    failures_to: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    refused: list[GraphCall] = field(default_factory=list)
    # Recipients whose 24-hour window Meta considers closed: a free-form message to them
    # is refused with 131047, as Meta does; a template goes through.
    closed: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    media: dict[str, MediaFile] = field(default_factory=dict)
    media_calls: list[MediaCall] = field(default_factory=list)
    # HTTP statuses answered to downloads first (Meta's CDN failing), before the bytes.
    download_failures: list[int] = field(default_factory=list)
    # Endless files whose reader hung up (the stream stopped because of it).
    abandoned: set[str] = field(default_factory=set)
    # The download URLs' credential part (Meta's `hash`): it must never reach a log.
    url_secret: str = field(default_factory=lambda: "AT" + secrets.token_hex(12))

    def app(self) -> FastAPI:
        api = FastAPI()
        self._media_routes(api)

        @api.post("/{version}/{phone_number_id}/messages")
        async def messages(version: str, phone_number_id: str, request: Request) -> JSONResponse:
            call = GraphCall(
                phone_number_id,
                await request.json(),
                request.headers.get("authorization"),
                time.monotonic(),
            )
            with self.lock:
                failure = self.failures.pop(0) if self.failures else None
                for_recipient = self.failures_to.get(call.to or "")
                if failure is None and for_recipient:
                    failure = for_recipient.pop(0)
                free_form = call.template is None and not call.is_read_receipt
                if failure is None and free_form and call.to in self.closed:
                    failure = (400, 131047)
                (self.refused if failure else self.calls).append(call)
                count = len(self.calls)
            if failure is not None:
                status, code = failure
                error = {"message": f"(#{code}) error", "type": "OAuthException", "code": code}
                return JSONResponse({"error": error}, status_code=status)
            if call.is_read_receipt:
                return JSONResponse({"success": True})
            return JSONResponse(
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": call.to, "wa_id": call.to}],
                    "messages": [{"id": f"wamid.sent{count}"}],
                }
            )

        return api

    def _media_routes(self, api: FastAPI) -> None:
        @api.get(DOWNLOAD_PATH)
        async def download(request: Request, mid: str = "", hash: str = "") -> Response:
            file = self._media_call("download", mid, request)
            if file is None or hash != self.url_secret:
                return _graph_error(404, 100, "media not found")
            if not self._authorized(file, request):
                return _graph_error(401, 190, "Invalid OAuth access token.")
            with self.lock:
                failure = self.download_failures.pop(0) if self.download_failures else None
            if failure is not None:
                return _graph_error(failure, 2, "Service temporarily unavailable")
            if file.endless:
                chunks = self._endless(mid, file, request)
                return StreamingResponse(chunks, media_type=file.mime_type)
            if file.trickle:
                return StreamingResponse(self._trickle(mid, file), media_type=file.mime_type)
            return Response(file.content, media_type=file.mime_type)

        @api.get("/{version}/{media_id}")
        async def metadata(version: str, media_id: str, request: Request) -> JSONResponse:
            file = self._media_call("metadata", media_id, request)
            if file is None:
                return _graph_error(400, 100, "Unsupported get request.")
            if not self._authorized(file, request):
                return _graph_error(401, 190, "Invalid OAuth access token.")
            root = str(request.base_url).rstrip("/")
            query = f"mid={media_id}&ext={int(time.time())}&hash={self.url_secret}"
            document: dict[str, Any] = {
                "messaging_product": "whatsapp",
                "url": file.url or f"{root}{DOWNLOAD_PATH}?{query}",
                "mime_type": file.mime_type,
                "file_size": len(file.content)
                if file.declared_size is None
                else file.declared_size,
                "id": media_id,
            }
            digest = hashlib.sha256(file.content).hexdigest()
            if file.sha256 != "":
                document["sha256"] = digest if file.sha256 is None else file.sha256
            return JSONResponse(document)

    def _media_call(self, step: str, media_id: str, request: Request) -> MediaFile | None:
        call = MediaCall(step, media_id, request.headers.get("authorization"), str(request.url))
        with self.lock:
            self.media_calls.append(call)
            return self.media.get(media_id)

    @staticmethod
    def _authorized(file: MediaFile, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {file.token}"

    async def _endless(
        self, media_id: str, file: MediaFile, request: Request
    ) -> AsyncIterator[bytes]:
        while not await request.is_disconnected():
            yield file.content
        with self.lock:
            self.abandoned.add(media_id)

    async def _trickle(self, media_id: str, file: MediaFile) -> AsyncIterator[bytes]:
        try:
            while True:
                yield file.content[:1]
                await asyncio.sleep(0.1)
        finally:  # the reader hung up: the server stops the stream
            with self.lock:
                self.abandoned.add(media_id)

    def calls_for(self, media_id: str) -> list[MediaCall]:
        with self.lock:
            return [call for call in self.media_calls if call.media_id == media_id]

    def texts(self) -> list[GraphCall]:
        with self.lock:
            return [call for call in self.calls if not call.is_read_receipt]

    def read_receipts(self) -> list[GraphCall]:
        with self.lock:
            return [call for call in self.calls if call.is_read_receipt]
