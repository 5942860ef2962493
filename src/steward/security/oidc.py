"""OAuth 2.0 / OIDC bearer JWTs from an external IdP (G3), mapped to principals.

Tokens are verified against a configured JWKS (file or URL) or a PEM public key: signature
with an asymmetric algorithm only (never `none` or HMAC), issuer, audience, expiry. Claims map
to a role (first known value of the role claim), narrowing scopes (non-Steward scopes such as
`openid` are ignored), environments (absent claim = every environment, as for keys) and
purposes. Tokens are short-lived, so there is no revocation list; verified tokens are cached
until they expire to keep the gateway's hot path cheap.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from steward.errors import Unauthenticated
from steward.security.principal import ENVIRONMENTS, Principal, Role, validate_scope
from steward.settings import Settings

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
              "EdDSA"]
_CACHE_MAX = 4096


def looks_like_jwt(token: str) -> bool:
    """Three base64url segments; API keys never contain dots."""
    return token.count(".") == 2


class OidcVerifier:
    """Verifies bearer JWTs and maps their claims; built once from settings."""

    def __init__(self, settings: Settings) -> None:
        self._s = settings
        self._client: jwt.PyJWKClient | None = None
        self._keys: dict[str | None, Any] = {}
        source = settings.oidc_jwks
        if source and source.startswith(("https://", "http://")):
            self._client = jwt.PyJWKClient(source, cache_keys=True, lifespan=300)
        elif source:
            jwks = jwt.PyJWKSet.from_json(Path(source).read_text())
            self._keys = {k.key_id: k.key for k in jwks.keys if k.key_type != "oct"}
        elif settings.oidc_public_key:
            pem = settings.oidc_public_key
            data = pem if pem.lstrip().startswith("-----BEGIN") else Path(pem).read_text()
            self._keys = {None: load_pem_public_key(data.encode())}
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OidcVerifier(issuer={self._s.oidc_issuer!r})"

    def authenticate(self, token: str) -> Principal:
        """The principal a valid token names, or `Unauthenticated` saying why not."""
        hit = self._cache.get(token)
        if hit is not None and hit[1] > time.time():
            return hit[0]
        try:
            key = self._key_for(jwt.get_unverified_header(token))
            claims = jwt.decode(
                token, key, algorithms=ALGORITHMS, audience=self._s.oidc_audience,
                issuer=self._s.oidc_issuer, leeway=self._s.oidc_leeway_s,
                options={"require": ["exp", "iss", "aud", "sub"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("token is not meant for this service (audience)") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("token from an untrusted issuer") from None
        except (jwt.PyJWTError, ValueError, KeyError):
            raise Unauthenticated("invalid bearer token") from None
        principal = self._principal(claims)
        with self._lock:
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[token] = (principal, float(claims["exp"]))
        return principal

    def _key_for(self, header: dict[str, Any]) -> Any:
        if header.get("alg") not in ALGORITHMS:
            raise jwt.InvalidAlgorithmError("algorithm not allowed")
        kid = header.get("kid")
        if self._client is not None:
            signing = self._client.get_signing_key(kid) if kid else \
                self._client.get_signing_keys()[0]
            if signing.key_type == "oct":
                raise jwt.InvalidKeyError("symmetric keys are not accepted")
            return signing.key
        if kid in self._keys:
            return self._keys[kid]
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        if None in self._keys:
            return self._keys[None]
        raise jwt.InvalidKeyError("unknown signing key")

    def _principal(self, claims: dict[str, Any]) -> Principal:
        s = self._s
        roles = [r for r in _values(claims.get(s.oidc_role_claim)) if r in Role.__members__]
        if not roles:
            raise Unauthenticated("token carries no Steward role")
        scopes = {v for v in _values(claims.get(s.oidc_scope_claim)) if validate_scope(v) is None}
        envs_claim = claims.get(s.oidc_env_claim)
        envs = set(ENVIRONMENTS) if envs_claim is None else \
            {e for e in _values(envs_claim) if e in ENVIRONMENTS}
        subject = str(claims["sub"])
        return Principal(
            key_id=f"oidc:{subject}"[:200], name=str(claims.get(s.oidc_name_claim) or subject),
            role=Role(roles[0]), scopes=frozenset(scopes), environments=frozenset(envs),
            purposes=frozenset(_values(claims.get(s.oidc_purpose_claim))))


def _values(claim: Any) -> list[str]:
    """A claim as a list of strings: lists as they are, strings split on spaces."""
    if claim is None:
        return []
    if isinstance(claim, str):
        return claim.split()
    if isinstance(claim, list | tuple):
        return [str(v) for v in claim]
    return []
