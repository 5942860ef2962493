"""Pure hash-chain and digest-signature functions, shared by the server and offline checks.

hash_n = SHA-256(canonical_json(entry_n without `hash`, with prev_hash = hash_{n-1}));
the genesis entry links to 64 zeros. A digest is an Ed25519 signature over
canonical_json({"seq", "hash", "at"}) of the head at sealing time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

GENESIS = "0" * 64
HASHED_FIELDS = ("seq", "at", "actor", "actor_id", "action", "target", "outcome", "before",
                 "after", "request_id", "prev_hash")


def canonical(value: Any) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def jsonable(value: Any) -> Any:
    """Plain JSON types only (datetimes and the like become strings), as stored and hashed."""
    return None if value is None else json.loads(json.dumps(value, default=str))


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 hex over the hashed fields of one entry (including its prev_hash)."""
    return hashlib.sha256(canonical({k: entry.get(k) for k in HASHED_FIELDS})).hexdigest()


def digest_message(seq: int, head_hash: str, at: str) -> bytes:
    """The bytes a digest signs."""
    return canonical({"seq": seq, "hash": head_hash, "at": at})


def sign_digest(key: Ed25519PrivateKey, seq: int, head_hash: str, at: str) -> str:
    """Hex Ed25519 signature of a head."""
    return key.sign(digest_message(seq, head_hash, at)).hex()


def digest_valid(public: Ed25519PublicKey, seq: int, head_hash: str, at: str,
                 signature: str) -> bool:
    """Whether `signature` signs this head under `public`."""
    try:
        public.verify(bytes.fromhex(signature), digest_message(seq, head_hash, at))
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass
class Verdict:
    """Outcome of a verification; `first_bad` names the first entry that fails."""

    ok: bool = True
    entries: int = 0
    digests: int = 0
    first_bad: int | None = None
    problem: str | None = None

    def fail(self, seq: int | None, problem: str) -> None:
        """Record the first failure only."""
        if self.ok:
            self.ok, self.first_bad, self.problem = False, seq, problem


def verify_entries(entries: Iterable[Mapping[str, Any]], verdict: Verdict) -> dict[int, str]:
    """Check links and hashes in seq order; return {seq: hash} of the entries seen."""
    expected_seq, prev = 1, GENESIS
    hashes: dict[int, str] = {}
    for entry in entries:
        seq = int(entry["seq"])
        verdict.entries += 1
        hashes[seq] = str(entry["hash"])
        if seq != expected_seq:
            verdict.fail(seq, f"entry {seq} follows entry {expected_seq - 1}: "
                              f"entries {expected_seq}..{seq - 1} are missing")
        elif entry["prev_hash"] != prev:
            verdict.fail(seq, f"entry {seq} does not link to entry {seq - 1} "
                              "(an earlier entry was rewritten or removed)")
        elif entry_hash(entry) != entry["hash"]:
            verdict.fail(seq, f"entry {seq} was modified: its content does not match its hash")
        expected_seq, prev = seq + 1, str(entry["hash"])
    return hashes


def verify_digests(digests: Iterable[Mapping[str, Any]], hashes: Mapping[int, str],
                   public: Ed25519PublicKey, verdict: Verdict) -> None:
    """Each signed digest must be authentic and match the entry it sealed."""
    head = max(hashes, default=0)
    for d in digests:
        verdict.digests += 1
        seq, at = int(d["seq"]), str(d["at"])
        if not digest_valid(public, seq, str(d["hash"]), at, str(d["signature"])):
            verdict.fail(seq, f"digest of entry {seq} sealed at {at} has a bad signature")
        elif seq > head:
            verdict.fail(head + 1, f"chain truncated: a digest sealed entry {seq} "
                                   f"but the chain ends at {head}")
        elif hashes.get(seq) != d["hash"]:
            verdict.fail(seq, f"entry {seq} differs from the signed digest sealed at {at} "
                              "(chain rewritten)")
