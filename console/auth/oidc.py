"""OpenID Connect against the platform's identity provider: the provider's discovery
document and keys, the code-for-token exchange, and the ID token's verification.

The ID token is trusted only once PyJWT has checked its signature with a key from the
provider's JWKS (an asymmetric algorithm only: never `none`, never a shared secret), its
issuer, its audience (and `azp` when there are several), its expiry and the nonce this
sign-in sent. Discovery and JWKS are cached for `CACHE_SECONDS`; a token signed with a key
the cache does not know makes one fresh JWKS fetch (the provider rotated its keys).
"""

import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import jwt

from console.auth.keys import same
from console.auth.principal import Role
from console.settings import ConsoleSettings
from katha.contracts.routing import TENANT_PATTERN

CACHE_SECONDS = 300.0
LEEWAY_SECONDS = 60  # clocks of the provider and the console may differ this much
TIMEOUT_SECONDS = 10.0
ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
ROLES: dict[str, Role] = {"owner": "owner", "staff": "staff"}


class OidcError(Exception):
    """Sign-in with the provider failed; the message says why (never a token)."""


@dataclass
class _Cached:
    value: dict[str, Any]
    fetched: float


_cache: dict[str, _Cached] = {}  # url -> document, for every app in this process


async def fetch_json(url: str, *, fresh: bool = False) -> dict[str, Any]:
    """The JSON document at `url`, from the cache unless it is older than CACHE_SECONDS."""
    cached = _cache.get(url)
    if cached is not None and not fresh and time.monotonic() - cached.fetched < CACHE_SECONDS:
        return cached.value
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            response = await client.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as error:
        raise OidcError(f"the provider did not answer ({type(error).__name__})") from error
    if response.status_code != 200:
        raise OidcError(f"the provider answered {response.status_code} for {url}")
    value = response.json()
    if not isinstance(value, dict):
        raise OidcError(f"the provider's {url} is not a JSON object")
    _cache[url] = _Cached(value, time.monotonic())
    return value


@dataclass(frozen=True)
class OidcClient:
    issuer: str
    client_id: str
    client_secret: str

    @classmethod
    def of(cls, settings: ConsoleSettings) -> "OidcClient":
        if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret):
            raise OidcError("OpenID Connect is not configured")
        secret = settings.oidc_client_secret.get_secret_value()
        return cls(settings.oidc_issuer.rstrip("/"), settings.oidc_client_id, secret)

    async def discovery(self) -> dict[str, Any]:
        """The provider's discovery document, once its `issuer` is the configured one, a
        trailing slash apart (Auth0 writes one, the settings may not)."""
        document = await fetch_json(f"{self.issuer}/.well-known/openid-configuration")
        issuer = document.get("issuer")
        if not isinstance(issuer, str) or issuer.rstrip("/") != self.issuer:
            raise OidcError("the discovery document names another issuer")
        for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not re.match(r"^https?://", str(document.get(endpoint, ""))):
                raise OidcError(f"the discovery document has no {endpoint}")
        return document

    async def exchange(self, code: str, verifier: str, redirect_uri: str) -> str:
        """The ID token the provider gives for the authorization `code`."""
        document = await self.discovery()
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        methods = document.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
        auth: httpx.Auth = httpx.Auth()  # none: the secret goes in the form
        if "client_secret_basic" in methods:
            # RFC 6749 2.3.1: both are form-encoded before they go into Basic.
            auth = httpx.BasicAuth(
                quote(self.client_id, safe=""), quote(self.client_secret, safe="")
            )
        else:
            data |= {"client_id": self.client_id, "client_secret": self.client_secret}
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
                response = await client.post(
                    document["token_endpoint"], data=data, auth=auth,
                    headers={"Accept": "application/json"},
                )  # fmt: skip
        except httpx.HTTPError as error:
            raise OidcError(
                f"the token endpoint did not answer ({type(error).__name__})"
            ) from error
        if response.status_code != 200:
            raise OidcError(f"the token endpoint answered {response.status_code}")
        id_token = response.json().get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("the token endpoint gave no ID token")
        return id_token

    async def verify(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims, once everything about it has been checked."""
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as error:
            raise OidcError("the ID token is not a JWT") from error
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise OidcError(f"the ID token's algorithm {algorithm!r} is not accepted")
        key = await self._key(header.get("kid"))
        # The issuer exactly as the provider writes it (its tokens' `iss` is that string).
        issuer = str((await self.discovery())["issuer"])
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token, key.key, algorithms=[str(algorithm)], audience=self.client_id,
                issuer=issuer, leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )  # fmt: skip
        except jwt.PyJWTError as error:
            raise OidcError(f"the ID token was refused: {type(error).__name__}") from error
        if not same(str(claims.get("nonce", "")), nonce):
            raise OidcError("the ID token's nonce is not this sign-in's")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.client_id:
            raise OidcError("the ID token was issued to another party (azp)")
        return claims

    async def _key(self, kid: Any) -> jwt.PyJWK:
        jwks_uri = str((await self.discovery())["jwks_uri"])
        for fresh in (False, True):
            try:
                keys = jwt.PyJWKSet.from_dict(await fetch_json(jwks_uri, fresh=fresh)).keys
            except jwt.PyJWTError as error:
                raise OidcError("the provider's JWKS holds no usable key") from error
            found = [key for key in keys if kid is None or key.key_id == kid]
            if len(found) == 1 or (found and kid is not None):
                return found[0]
        raise OidcError("no key of the provider's JWKS signed the ID token")


def businesses(claims: dict[str, Any], claim: str) -> dict[str, Role]:
    """The Businesses the claim grants: "namespace/name" (staff), or with ":owner" or
    ":staff"; anything else is ignored. Owner wins when a Business is named twice."""
    value = claims.get(claim)
    entries = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    granted: dict[str, Role] = {}
    for entry in entries:
        if not isinstance(entry, str):
            continue
        tenant, _, role_name = entry.strip().partition(":")
        role = ROLES.get(role_name or "staff")
        if role is None or not re.fullmatch(TENANT_PATTERN, tenant):
            continue
        if granted.get(tenant) != "owner":
            granted[tenant] = role
    return granted


def display_name(claims: dict[str, Any]) -> str:
    """What pages show for the user: their name, else their username or e-mail."""
    for claim in ("name", "preferred_username", "email"):
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            return value.strip()[:256]
    return "User"
