"""Open Inference Protocol v2 and KServe v1 bodies: parse into a contract-ordered matrix, format.

Parsing is plain `orjson` + one `np.asarray` per tensor; no pydantic per request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from steward.errors import BadRequest, ErrorList, InvalidInput
from steward.gateway.validation import CompiledContract

NUMERIC_TYPES = frozenset({"BOOL", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16",
                           "UINT32", "UINT64", "FP16", "FP32", "FP64"})
DATATYPES = NUMERIC_TYPES | {"BYTES"}
CONTRACT_DATATYPE = {"float": "FP64", "int": "INT64", "bool": "BOOL", "string": "BYTES"}
_DUMP = orjson.OPT_SERIALIZE_NUMPY


@dataclass
class Parsed:
    """One inference request reduced to what the gateway needs."""

    X: npt.NDArray[Any]  # (rows, features) in contract order; float64 when all numeric
    rows: int
    body_id: str | None = None
    outputs: list[str] | None = None
    routing_value: str | None = None


def _loads(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from exc


def _matrix(c: CompiledContract, data: Any, where: str) -> npt.NDArray[Any]:
    """Rows of values in contract order as the matrix the runtime takes."""
    if not c.numeric:
        try:
            return np.array(data, dtype=object)
        except ValueError as exc:
            raise BadRequest(f"{where}: ragged data ({exc})") from exc
    try:
        return np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        pass
    try:
        raw = np.array(data, dtype=object)
    except ValueError as exc:
        raise BadRequest(f"{where}: ragged data") from exc
    if raw.ndim == 1 and raw.size % c.width == 0:
        raw = raw.reshape(-1, c.width)  # flat OIP data
    if raw.ndim != 2 or raw.shape[1] != c.width:
        raise BadRequest(f"{where}: expected rows of {c.width} values")
    problems = ErrorList()
    for j, name in enumerate(c.names):
        try:
            np.asarray(raw[:, j], dtype=np.float64)
        except (TypeError, ValueError):
            problems.add(name, f"expected {c.dtypes[j]} values")
    problems.raise_if_any("the request breaks the model contract")
    raise BadRequest(f"{where}: unreadable values")  # pragma: no cover - caught above


def _column(c: CompiledContract, name: str, data: Any, problems: ErrorList) -> Any:
    j = c.index[name]
    if c.dtypes[j] == "string":
        return data
    try:
        return np.asarray(data, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        problems.add(name, f"expected {c.dtypes[j]} values")
        return None


def _from_columns(c: CompiledContract, columns: dict[str, Any], rows: int) -> npt.NDArray[Any]:
    problems = ErrorList()
    for name in c.names:
        if name not in columns and name in c.required:
            problems.add(name, "required feature is missing")
    problems.raise_if_any("the request breaks the model contract")
    X: npt.NDArray[Any] = np.full((rows, c.width), np.nan if c.numeric else None,
                                  dtype=np.float64 if c.numeric else object)
    for name, values in columns.items():
        X[:, c.index[name]] = values
    return X


def parse_oip(body: bytes, c: CompiledContract, routing_field: str | None) -> Parsed:
    """Parse an OIP v2 infer request: one 2-D tensor in contract order, or one input per feature."""
    doc = _loads(body)
    if not isinstance(doc, dict) or not isinstance(doc.get("inputs"), list) or not doc["inputs"]:
        raise BadRequest("body must be an object with a non-empty 'inputs' list")
    tensors = [_tensor(t) for t in doc["inputs"]]
    body_id = doc.get("id")
    if body_id is not None and not isinstance(body_id, str):
        raise BadRequest("'id' must be a string")
    outputs = None
    if doc.get("outputs") is not None:
        outs = doc["outputs"]
        if not isinstance(outs, list) or not all(isinstance(o, dict) and isinstance(
                o.get("name"), str) for o in outs):
            raise BadRequest("'outputs' must be a list of objects with a 'name'")
        outputs = [o["name"] for o in outs]
    if len(tensors) == 1 and len(tensors[0][1]) == 2 and (
            tensors[0][0] not in c.index or c.width > 1):
        name, shape, datatype, data = tensors[0]
        if shape[1] != c.width:
            raise InvalidInput(f"input {name!r} has {shape[1]} columns, the contract has "
                               f"{c.width} features", field=name)
        _check_datatype(c, None, datatype, name)
        X = _matrix(c, data, f"input {name!r}")
        if X.size != shape[0] * shape[1]:
            raise BadRequest(f"input {name!r}: shape {shape} does not match its data")
        X = X.reshape(shape[0], shape[1])
        return Parsed(X, shape[0], body_id, outputs)
    columns: dict[str, Any] = {}
    problems = ErrorList()
    rows: int | None = None
    routing_value = None
    for name, shape, datatype, data in tensors:
        n = shape[0]
        if math.prod(shape) != n:
            raise BadRequest(f"input {name!r}: per-feature inputs must have shape [n] or [n, 1]")
        if rows is None:
            rows = n
        elif n != rows:
            raise BadRequest(f"input {name!r} has {n} rows, other inputs have {rows}")
        flat = _flat(data)
        if len(flat) != n:
            raise BadRequest(f"input {name!r}: shape {shape} does not match its data")
        if name == routing_field and flat:
            routing_value = str(flat[0])
        if name not in c.index:
            if name != routing_field:
                problems.add(name, "not a feature of the model contract")
            continue
        if not _check_datatype(c, name, datatype, name, problems):
            continue
        columns[name] = _column(c, name, flat, problems)
    problems.raise_if_any("the request breaks the model contract")
    X = _from_columns(c, columns, rows or 0)
    return Parsed(X, rows or 0, body_id, outputs, routing_value)


def _flat(data: Any) -> list[Any]:
    if not isinstance(data, list):
        return [data]
    if data and isinstance(data[0], list):
        return [v for row in data for v in (row if isinstance(row, list) else [row])]
    return data


def _tensor(t: Any) -> tuple[str, list[int], str, Any]:
    if not isinstance(t, dict):
        raise BadRequest("each input must be an object")
    name, shape, datatype, data = t.get("name"), t.get("shape"), t.get("datatype"), t.get("data")
    if not isinstance(name, str) or not name:
        raise BadRequest("every input needs a 'name'")
    if not isinstance(shape, list) or not shape or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise BadRequest(f"input {name!r}: 'shape' must be a list of non-negative integers")
    if len(shape) > 2:
        raise BadRequest(f"input {name!r}: at most 2 dimensions are supported")
    if datatype not in DATATYPES:
        raise BadRequest(f"input {name!r}: unknown datatype {datatype!r}")
    if data is None:
        raise BadRequest(f"input {name!r}: 'data' is required")
    return name, shape, datatype, data


def _check_datatype(c: CompiledContract, feature: str | None, datatype: str, name: str,
                    problems: ErrorList | None = None) -> bool:
    dtypes = c.dtypes if feature is None else (c.dtypes[c.index[feature]],)
    numeric = c.numeric if feature is None else dtypes[0] != "string"
    ok = datatype in NUMERIC_TYPES if numeric else (
        datatype == "BYTES" or feature is None)
    if ok:
        return True
    message = f"datatype {datatype} does not fit a {'/'.join(sorted(set(dtypes)))} feature"
    if problems is None:
        raise InvalidInput(message, field=name)
    problems.add(name, message)
    return False


def parse_v1(body: bytes, c: CompiledContract, routing_field: str | None) -> Parsed:
    """Parse a KServe v1 predict request: `instances` as records or as rows."""
    doc = _loads(body)
    instances = doc.get("instances", doc.get("inputs")) if isinstance(doc, dict) else None
    if not isinstance(instances, list) or not instances:
        raise BadRequest("body must be an object with a non-empty 'instances' list")
    first = instances[0]
    if isinstance(first, dict):
        if not all(isinstance(r, dict) for r in instances):
            raise BadRequest("'instances' mixes records and rows")
        routing_value = None
        if routing_field is not None and first.get(routing_field) is not None:
            routing_value = str(first[routing_field])
        keys: set[str] = set().union(*instances)
        problems = ErrorList()
        for key in sorted(keys - c.index.keys() - {routing_field}):
            problems.add(key, "not a feature of the model contract")
        problems.raise_if_any("the request breaks the model contract")
        present = {n for n in c.names if n in keys}
        columns = {}
        for name in present:
            values = [r.get(name) for r in instances]
            columns[name] = _column(c, name, values, problems)
        problems.raise_if_any("the request breaks the model contract")
        return Parsed(_from_columns(c, columns, len(instances)), len(instances),
                      routing_value=routing_value)
    X = _matrix(c, instances, "instances")
    if X.ndim != 2 or X.shape[1] != c.width:
        raise InvalidInput(f"each instance must have {c.width} values in contract order",
                           field="instances")
    return Parsed(X, len(instances))


def output_tensors(outputs: dict[str, npt.NDArray[Any]], wanted: list[str] | None
                   ) -> list[dict[str, Any]]:
    """Named OIP output tensors (optionally only the requested ones)."""
    names = list(outputs) if wanted is None else wanted
    unknown = [n for n in names if n not in outputs]
    if unknown:
        raise InvalidInput(f"unknown output(s): {', '.join(unknown)}; available: "
                           f"{', '.join(outputs)}", field="outputs")
    tensors = []
    for name in names:
        value = outputs[name]
        if value.dtype.kind in "USO":
            tensors.append({"name": name, "datatype": "BYTES", "shape": list(value.shape),
                            "data": value.tolist()})
        else:
            arr = np.ascontiguousarray(value, dtype=np.float32 if name == "probabilities"
                                       else np.float64)
            tensors.append({"name": name, "datatype": "FP32" if arr.dtype == np.float32
                            else "FP64", "shape": list(arr.shape), "data": arr.reshape(-1)})
    return tensors


def dump(doc: Any) -> bytes:
    """Serialise a response body (NumPy arrays included)."""
    return orjson.dumps(doc, option=_DUMP)


def v1_predictions(outputs: dict[str, npt.NDArray[Any]], classes: list[str] | None
                   ) -> list[Any]:
    """KServe v1 `predictions`: numbers for regressors, {label, probabilities} for classifiers."""
    if "prediction" in outputs:
        return list(outputs["prediction"].tolist())
    labels = outputs["label"].tolist()
    probs = outputs.get("probabilities")
    if probs is None or classes is None:
        return [{"label": lab} for lab in labels]
    return [{"label": lab, "probabilities": dict(zip(classes, row, strict=False))}
            for lab, row in zip(labels, probs.tolist(), strict=True)]
