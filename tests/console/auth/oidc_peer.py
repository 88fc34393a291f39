"""A small OpenID provider on loopback for the console's OIDC tests: discovery, a JWKS, an
authorization endpoint that signs the user straight in (no login page), and a token
endpoint that checks the client's secret and the PKCE verifier, then signs an ID token.

`tamper` bends the next ID tokens the way an attacker or a broken provider would (another
key, audience, issuer, nonce or algorithm; an expired token), so that the tests can show
the console refuses each. The real certified provider (oidc-provider on Node) is
tests/support/peers/oidc.py; this one stays for the cases a real provider will not produce.
"""

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, Header, HTTPException
from fastapi.responses import RedirectResponse
from jwt.algorithms import RSAAlgorithm
from peers.loopback import ServerThread


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class LocalProvider:
    client_id: str
    client_secret: str
    claims: dict[str, Any]  # what every ID token says about the user
    key: rsa.RSAPrivateKey = field(default_factory=new_key)
    kid: str = "key-1"
    tamper: dict[str, Any] = field(default_factory=dict)
    url: str = ""
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    token_requests: int = 0
    fetched: dict[str, int] = field(default_factory=lambda: {"discovery": 0, "jwks": 0})
    trailing_slash: bool = False  # the issuer as Auth0 writes it: `https://tenant/`

    @property
    def issuer(self) -> str:
        return f"{self.url}/" if self.trailing_slash else self.url

    def rotate(self) -> None:
        """A new signing key under a new id, as providers do now and then."""
        self.key, self.kid = new_key(), f"key-{secrets.token_hex(4)}"

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer, "sub": "user-1", "aud": self.client_id, "iat": now,
            "exp": now + 300, "nonce": nonce, **self.claims,
        }  # fmt: skip
        for name in ("iss", "aud", "nonce", "exp"):
            if name in self.tamper:
                claims[name] = self.tamper[name]
        if self.tamper.get("algorithm") == "HS256":
            return jwt.encode(claims, "a-shared-secret-of-32-bytes-long!", algorithm="HS256")
        key = new_key() if self.tamper.get("other_key") else self.key
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.kid})

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            self.fetched["discovery"] += 1
            return {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "code_challenge_methods_supported": ["S256"],
            }

        @app.get("/jwks")
        async def jwks() -> dict[str, Any]:
            self.fetched["jwks"] += 1
            public = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

        @app.get("/authorize")
        async def authorize(
            client_id: str, redirect_uri: str, state: str, nonce: str,
            code_challenge: str, code_challenge_method: str, response_type: str,
        ) -> RedirectResponse:  # fmt: skip
            if client_id != self.client_id or response_type != "code":
                raise HTTPException(400, "unknown client")
            if code_challenge_method != "S256":
                raise HTTPException(400, "PKCE S256 required")
            code = secrets.token_urlsafe(16)
            self.codes[code] = {
                "nonce": nonce, "challenge": code_challenge, "redirect_uri": redirect_uri,
            }  # fmt: skip
            query = urlencode({"code": code, "state": state})
            return RedirectResponse(f"{redirect_uri}?{query}", status_code=303)

        @app.post("/token")
        async def token(
            grant_type: str = Form(), code: str = Form(), redirect_uri: str = Form(),
            code_verifier: str = Form(), authorization: str = Header(""),
        ) -> dict[str, Any]:  # fmt: skip
            self.token_requests += 1
            expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode())
            if authorization != f"Basic {expected.decode()}":
                raise HTTPException(401, "invalid_client")
            issued = self.codes.pop(code, None)
            if grant_type != "authorization_code" or issued is None:
                raise HTTPException(400, "invalid_grant")
            digest = hashlib.sha256(code_verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            if challenge != issued["challenge"] or redirect_uri != issued["redirect_uri"]:
                raise HTTPException(400, "invalid_grant")
            return {"id_token": self.id_token(issued["nonce"]), "token_type": "Bearer"}

        return app

    @contextmanager
    def serve(self) -> Iterator["LocalProvider"]:
        server = ServerThread(self.app()).start()
        self.url = server.url
        try:
            yield self
        finally:
            server.stop()
