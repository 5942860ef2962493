"""ONNX models served through onnxruntime, tuned for many small requests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort

from steward.errors import InvalidInput
from steward.runtimes.base import (
    CLASSIFICATION,
    REGRESSION,
    artifact_error,
    check_input,
    check_width,
    classify,
    resolve_classes,
    two_columns,
)

_INPUT_DTYPES: dict[str, type[np.generic]] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(string)": np.str_,
}
# Names skl2onnx (and most converters) give the outputs, most specific first.
_PROBA_NAMES = ("probabilities", "output_probability")
_REGRESSION_NAMES = ("variable", "output", "predictions")
_CLASSLABEL_ATTRS = ("classlabels_strings", "classlabels_ints")


def _session_options() -> ort.SessionOptions:
    """One thread per request: serving runs many small requests side by side, and
    intra-op thread pools only add wake-up latency at batch sizes of a few rows."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return opts


def _classes_in_model(data: bytes, meta: dict[str, str]) -> list[str] | None:
    """Class labels recorded in the artifact: a `classes` metadata entry, else the
    `classlabels_*` attribute of an ai.onnx.ml classifier node."""
    if "classes" in meta:
        raw = meta["classes"]
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw.split(",")
        if isinstance(parsed, list):
            return [str(c).strip() for c in parsed]
    model = onnx.load_from_string(data)
    for node in model.graph.node:
        for attr in node.attribute:
            if attr.name in _CLASSLABEL_ATTRS:
                values: Sequence[Any] = onnx.helper.get_attribute_value(attr)
                return [v.decode() if isinstance(v, bytes) else str(v) for v in values]
    return None


class OnnxRuntime:
    """An onnxruntime session with its input and output names resolved at load."""

    format = "onnx"

    def __init__(self, data: bytes, *, feature_names: list[str],
                 classes: list[str] | None = None) -> None:
        try:
            self._session = ort.InferenceSession(
                data, sess_options=_session_options(), providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises several private exception types
            raise artifact_error("onnx", exc) from exc
        inputs = self._session.get_inputs()
        if len(inputs) != 1:
            raise artifact_error("onnx", f"expected one input tensor, found {len(inputs)}")
        self._input_name: str = inputs[0].name
        # Unlisted input types get float32: that is what converters emit for numeric features.
        self._input_dtype = _INPUT_DTYPES.get(inputs[0].type, np.float32)
        shape = inputs[0].shape
        self.n_features: int | None = (
            shape[1] if len(shape) == 2 and isinstance(shape[1], int) else None
        )
        self._width = check_width("onnx", self.n_features, feature_names)

        outputs = {o.name: o for o in self._session.get_outputs()}
        proba_name = next((n for n in _PROBA_NAMES if n in outputs), None)
        if proba_name is not None:
            if not outputs[proba_name].type.startswith("tensor("):
                raise artifact_error(
                    "onnx", "probabilities are a sequence of maps; convert with zipmap disabled"
                )
            self.task = CLASSIFICATION
            self._output_names = [proba_name]
            found = _classes_in_model(data, self._session.get_modelmeta().custom_metadata_map)
            self.classes: list[str] | None = resolve_classes(
                "onnx", classes, found, self._n_classes(outputs[proba_name].shape, found)
            )
            self._labels = np.asarray(self.classes)
        else:
            reg_name = next((n for n in _REGRESSION_NAMES if n in outputs), None)
            if reg_name is None and len(outputs) == 1:
                reg_name = next(iter(outputs))
            if reg_name is None:
                raise artifact_error(
                    "onnx", f"no probabilities or regression output among {sorted(outputs)}"
                )
            self.task = REGRESSION
            self.classes = None
            self._output_names = [reg_name]

    def _n_classes(self, shape: Sequence[Any], found: list[str] | None) -> int:
        """Probability width from the declared shape, else the labels, else one probe run."""
        if len(shape) == 2 and isinstance(shape[1], int):
            return 2 if shape[1] == 1 else shape[1]  # (n, 1) is the positive class only
        if found is not None:
            return len(found)
        probe = np.zeros((1, self._width)).astype(self._input_dtype)
        width = int(np.asarray(self._session.run(self._output_names,
                                                 {self._input_name: probe})[0]).shape[-1])
        return 2 if width == 1 else width

    def predict(self, X: npt.NDArray[np.generic]) -> dict[str, npt.NDArray[np.generic]]:
        """Run the session once on X cast to the model's input type."""
        check_input(X, self._width)
        try:
            feed = X.astype(self._input_dtype, copy=False)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"inputs cannot be read as {self._input_dtype.__name__}: {exc}",
                               field="inputs") from exc
        out = np.asarray(self._session.run(self._output_names, {self._input_name: feed})[0])
        if self.task == REGRESSION:
            return {"prediction": out.reshape(-1)}
        if out.ndim == 1 or out.shape[1] == 1:
            out = two_columns(out)
        return classify(self._labels, out)
