"""The prediction-log line: how a served request is written to the spool and read back.

One line per record, four tab-separated JSON texts:

    [ts, request_id, deployment, …, purpose] \\t {inputs} \\t {outputs}|null \\t [ood]

JSON never contains a raw tab (orjson escapes control characters), so a split on `\\t` is exact.
Only the small first part is parsed when shipping; the inputs and outputs texts go to the
database as they are. A line written as one JSON object per record (the spool format before
0.1.1) is still read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

# The scalar fields, in the order of the first part of a line.
META = ("ts", "request_id", "deployment", "environment", "model", "version", "version_id",
        "route", "rows", "confidence", "latency_ms", "fallback", "error", "caller", "purpose")
# Database columns in the order `decode` returns them (ts is converted by the caller).
COLUMNS = (*META, "inputs", "outputs", "ood")
_NUMPY = orjson.OPT_SERIALIZE_NUMPY


def _tolist(value: Any) -> Any:
    """orjson's fallback for arrays it does not write natively (strings, non-contiguous)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot log a {type(value).__name__}")


def encode(meta: Sequence[Any], inputs: Mapping[str, Any], outputs: Mapping[str, Any] | None,
           ood: Sequence[str]) -> bytes:
    """One spool line."""
    return b"\t".join((
        orjson.dumps(meta), orjson.dumps(inputs, _tolist, _NUMPY),
        orjson.dumps(outputs, _tolist, _NUMPY), orjson.dumps(ood))) + b"\n"


def encode_records(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """Lines for records given as one mapping of every column each (tests, tools)."""
    return b"".join(encode([r.get(k) for k in META], r.get("inputs") or {}, r.get("outputs"),
                           r.get("ood") or []) for r in rows)


def decode(line: bytes) -> list[Any]:
    """A line (without its newline) as database values in `COLUMNS` order; JSON columns stay
    JSON text."""
    if line[:1] == b"{":
        return _decode_object(line)
    meta, inputs, outputs, ood = line.split(b"\t")
    values: list[Any] = orjson.loads(meta)
    values.append(inputs.decode())
    values.append(None if outputs == b"null" else outputs.decode())
    values.append(ood.decode())
    return values


def _decode_object(line: bytes) -> list[Any]:
    record = orjson.loads(line)
    values = [record.get(k) for k in META]
    outputs = record.get("outputs")
    values += [orjson.dumps(record.get("inputs") or {}).decode(),
               None if outputs is None else orjson.dumps(outputs).decode(),
               orjson.dumps(record.get("ood") or []).decode()]
    return values
