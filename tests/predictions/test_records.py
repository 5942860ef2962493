"""The prediction-log line: what a worker writes is what the database receives."""

from __future__ import annotations

import numpy as np
import orjson

from steward.predictions import records


def test_a_line_decodes_to_database_values_in_column_order() -> None:
    meta = [1.5, "rid", "dep", "production", "cancer", 2, 7, "canary", 2, 0.9, 1.25, True,
            None, "key1", "triage"]
    line = records.encode(meta, {"age\tin years": [1.0, float("nan")]},
                          {"label": np.array(["a", "b"]),
                           "probabilities": np.ones((2, 3), np.float32)[:, :2]}, ["age"])
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    values = dict(zip(records.COLUMNS, records.decode(line[:-1]), strict=True))
    assert [values[k] for k in records.META] == meta
    assert orjson.loads(values["inputs"]) == {"age\tin years": [1.0, None]}  # tab escaped
    assert orjson.loads(values["outputs"]) == {"label": ["a", "b"],
                                              "probabilities": [[1.0, 1.0], [1.0, 1.0]]}
    assert orjson.loads(values["ood"]) == ["age"]


def test_a_failed_request_has_no_outputs() -> None:
    line = records.encode([0.0, "r"] + [None] * 13, {"x": [1]}, None, [])
    assert records.decode(line.rstrip())[records.COLUMNS.index("outputs")] is None


def test_lines_of_the_earlier_object_format_are_still_read() -> None:
    record = {"ts": 2.0, "request_id": "old", "deployment": "d", "route": "champion",
              "inputs": {"x": [3]}, "outputs": {"label": ["a"]}, "ood": [], "fallback": False}
    values = dict(zip(records.COLUMNS, records.decode(orjson.dumps(record)), strict=True))
    assert values["request_id"] == "old" and values["ts"] == 2.0
    assert orjson.loads(values["inputs"]) == {"x": [3]} and values["ood"] == "[]"
    assert orjson.loads(values["outputs"]) == {"label": ["a"]} and values["caller"] is None
    assert records.decode(records.encode_records([record]).rstrip()) == records.decode(
        orjson.dumps(record))
