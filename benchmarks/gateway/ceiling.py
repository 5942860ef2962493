"""The ceiling: a bare ASGI app that parses an OIP body, runs onnxruntime, returns OIP JSON.

No auth, no validation, no logging. Model path from $CEILING_MODEL.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import onnxruntime as ort
import orjson

_opts = ort.SessionOptions()
_opts.intra_op_num_threads = 1
_opts.inter_op_num_threads = 1
_session = ort.InferenceSession(os.environ["CEILING_MODEL"], sess_options=_opts,
                                providers=["CPUExecutionProvider"])
_input = _session.get_inputs()[0].name
_CLASSES = np.array(["0", "1"])


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Parse, predict, answer."""
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    tensor = orjson.loads(body)["inputs"][0]
    X = np.asarray(tensor["data"], dtype=np.float32).reshape(tensor["shape"])
    _, proba = _session.run(None, {_input: X})
    out = orjson.dumps({"model_name": "cancer", "outputs": [
        {"name": "label", "datatype": "BYTES", "shape": [len(X)],
         "data": _CLASSES[proba.argmax(axis=1)].tolist()},
        {"name": "probabilities", "datatype": "FP32", "shape": list(proba.shape),
         "data": proba.ravel()}]}, option=orjson.OPT_SERIALIZE_NUMPY)
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())]})
    await send({"type": "http.response.body", "body": out})
