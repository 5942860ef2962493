"""The pure hash-chain and digest functions against hand-built chains."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from steward.audit import chain


def _chain(n: int) -> list[dict[str, Any]]:
    entries, prev = [], chain.GENESIS
    for seq in range(1, n + 1):
        e: dict[str, Any] = {"seq": seq, "at": f"2026-01-01T00:00:0{seq}+00:00", "actor": "a",
                             "actor_id": "k", "action": "x", "target": f"t{seq}",
                             "outcome": "ok", "before": None, "after": {"v": seq},
                             "request_id": None, "prev_hash": prev}
        e["hash"] = chain.entry_hash(e)
        entries.append(e)
        prev = e["hash"]
    return entries


def _verify(entries: list[dict[str, Any]]) -> chain.Verdict:
    verdict = chain.Verdict()
    chain.verify_entries(entries, verdict)
    return verdict


def test_intact_chain_verifies_and_hash_is_canonical() -> None:
    entries = _chain(5)
    assert _verify(entries).ok and _verify(entries).entries == 5
    reordered = dict(reversed(list(entries[0].items())))
    assert chain.entry_hash(reordered) == entries[0]["hash"]


def test_modified_removed_and_relinked_entries_are_named() -> None:
    entries = _chain(5)
    entries[2]["after"] = {"v": 99}
    v = _verify(entries)
    assert (v.ok, v.first_bad) == (False, 3) and "modified" in str(v.problem)

    entries = _chain(5)
    del entries[1]
    assert _verify(entries).first_bad == 3  # entry 2 is missing

    entries = _chain(5)
    entries[1]["actor"] = "mallory"
    entries[1]["hash"] = chain.entry_hash(entries[1])  # rewritten consistently...
    v = _verify(entries)
    assert v.first_bad == 3 and "does not link" in str(v.problem)  # ...the next one tells


def test_signed_digests_detect_truncation_and_rewrites() -> None:
    key = Ed25519PrivateKey.generate()
    entries = _chain(4)
    digest = {"seq": 4, "hash": entries[3]["hash"], "at": "2026-01-01T01:00:00+00:00"}
    digest["signature"] = chain.sign_digest(key, 4, str(digest["hash"]), str(digest["at"]))

    verdict = chain.Verdict()
    hashes = chain.verify_entries(entries, verdict)
    chain.verify_digests([digest], hashes, key.public_key(), verdict)
    assert verdict.ok and verdict.digests == 1

    verdict = chain.Verdict()
    hashes = chain.verify_entries(entries[:3], verdict)  # the last entry was cut off
    chain.verify_digests([digest], hashes, key.public_key(), verdict)
    assert not verdict.ok and "truncated" in str(verdict.problem)

    forged = {**digest, "signature": chain.sign_digest(Ed25519PrivateKey.generate(), 4,
                                                       str(digest["hash"]), str(digest["at"]))}
    verdict = chain.Verdict()
    chain.verify_digests([forged], chain.verify_entries(entries, verdict), key.public_key(),
                         verdict)
    assert not verdict.ok and "signature" in str(verdict.problem)
