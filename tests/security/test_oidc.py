"""OIDC bearer JWTs (RS256 and EdDSA) signed by keys made here, on both backends."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi.testclient import TestClient
from pydantic import ValidationError

from steward.audit.service import list_entries
from steward.errors import Unauthenticated
from steward.settings import Settings
from tests.conftest import Env
from tests.security.helpers import state_of

ISSUER, AUDIENCE = "https://idp.example.com/", "steward"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ED_KEY = ed25519.Ed25519PrivateKey.generate()


def _token(key: Any = RSA_KEY, alg: str = "RS256", kid: str = "rsa1", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + 300,
            "roles": ["data_scientist"], **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm=alg,
                      headers={"kid": kid})


@pytest.fixture
def oidc_http(env: Env, tmp_path: Path) -> Iterator[TestClient]:
    """The app configured with a JWKS file holding an RSA and an Ed25519 key."""
    from steward.app import create_app

    keys = []
    for kid, key, algo in (("rsa1", RSA_KEY, jwt.algorithms.RSAAlgorithm),
                           ("ed1", ED_KEY, jwt.algorithms.OKPAlgorithm)):
        jwk = json.loads(algo.to_jwk(key.public_key()))
        keys.append({**jwk, "kid": kid})
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": keys}))
    settings = Settings(home=env.settings.home, database_url=env.settings.database_url,
                        oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks=str(jwks))
    with TestClient(create_app(settings)) as client:
        yield client


def _whoami(http: TestClient, token: str) -> Any:
    return http.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})


def test_valid_tokens_map_claims_to_principals(oidc_http: TestClient) -> None:
    me = _whoami(oidc_http, _token(scope="openid profile models:read predict:churn",
                                   steward_envs=["staging"])).json()
    assert me == {"key_id": "oidc:alice", "name": "alice", "role": "data_scientist",
                  "scopes": ["models:read", "predict:churn"], "environments": ["staging"]}
    ed = _whoami(oidc_http, _token(ED_KEY, "EdDSA", "ed1", sub="bob", roles="approver"))
    assert ed.json()["role"] == "approver" and ed.json()["environments"] == [
        "dev", "production", "staging"]
    token = _token(roles=["viewer"])
    assert oidc_http.get("/api/v1/models", headers={"Authorization": f"Bearer {token}"}
                         ).status_code == 200
    assert oidc_http.post("/api/v1/models", json={"name": "x", "owner": "o"},
                          headers={"Authorization": f"Bearer {token}"}).status_code == 403
    # The one entry point the gateway calls handles JWTs too.
    state = state_of(oidc_http.app)  # type: ignore[arg-type]
    assert state.keys.authenticate(token).role.value == "viewer"


@pytest.mark.parametrize("case", ["expired", "audience", "issuer", "forged", "none", "hmac",
                                  "no-role", "garbage", "unknown-kid"])
def test_bad_tokens_are_refused_and_audited(oidc_http: TestClient, case: str) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = RSA_KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    token = {
        "expired": lambda: _token(exp=int(time.time()) - 3600),
        "audience": lambda: _token(aud="another-service"),
        "issuer": lambda: _token(iss="https://evil.example.com/"),
        "forged": lambda: _token(other),
        "none": lambda: jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "a",
                                    "exp": int(time.time()) + 60, "roles": ["admin"]},
                                   None, algorithm="none"),
        "hmac": lambda: _hmac_with_public_key(pem),
        "no-role": lambda: _token(roles=["superuser"]),
        "garbage": lambda: "a.b.c",
        "unknown-kid": lambda: _token(kid="rotated-away"),
    }[case]()
    response = _whoami(oidc_http, token)
    assert response.status_code == 401, response.text
    state = state_of(oidc_http.app)  # type: ignore[arg-type]
    with pytest.raises(Unauthenticated):
        state.keys.authenticate(token)
    state.audit.flush()
    with state.factory() as session:
        denied = list_entries(session=session, outcome="denied")
    assert denied[0]["action"] == "GET /api/v1/whoami" and denied[0]["actor"] == "anonymous"
    assert token not in json.dumps(denied)  # credentials never reach the audit trail
    assert state.audit.verify().ok


def _hmac_with_public_key(pem: bytes) -> str:
    """The classic alg-confusion attack: HS256 keyed with the RSA public key."""
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa1"}).encode())
    payload = b64(json.dumps({"iss": ISSUER, "aud": AUDIENCE, "sub": "a", "roles": ["admin"],
                              "exp": int(time.time()) + 60}).encode())
    sig = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(sig)}"


def test_pem_public_key_and_settings_validation(env: Env, tmp_path: Path) -> None:
    from steward.security.oidc import OidcVerifier

    pem = tmp_path / "idp.pem"
    pem.write_bytes(RSA_KEY.public_key().public_bytes(Encoding.PEM,
                                                      PublicFormat.SubjectPublicKeyInfo))
    verifier = OidcVerifier(Settings(home=env.settings.home, oidc_issuer=ISSUER,
                                     oidc_audience=AUDIENCE, oidc_public_key=str(pem),
                                     oidc_role_claim="groups"))
    assert verifier.authenticate(_token(groups=["operator"], roles=None)).role.value == \
        "operator"
    with pytest.raises(ValidationError, match="AUDIENCE"):
        Settings(home=env.settings.home, oidc_issuer=ISSUER)
