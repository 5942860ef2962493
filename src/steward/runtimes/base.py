"""The `Runtime` protocol every model format implements, and helpers shared by the formats."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from steward.errors import InvalidInput

FORMATS: tuple[str, ...] = ("onnx", "skops", "xgboost", "lightgbm", "rules", "pickle")
CLASSIFICATION = "classification"
REGRESSION = "regression"

# Library messages can carry multi-line native stack traces (xgboost does); clients get one line.
_MAX_REASON = 200


@runtime_checkable
class Runtime(Protocol):
    """A loaded model that predicts on a 2-D array whose columns follow the contract's order."""

    format: str
    task: str
    classes: list[str] | None
    n_features: int | None

    def predict(self, X: npt.NDArray[np.generic]) -> dict[str, npt.NDArray[np.generic]]:
        """Classifiers: {"label", "probabilities" (n, k)}; regressors: {"prediction" (n,)}."""
        ...


@dataclass(frozen=True)
class LoadedRuntime:
    """A runtime plus what it cost to bring up."""

    runtime: Runtime
    cold_start_ms: float
    memory_bytes: int


def artifact_error(fmt: str, exc: BaseException | str) -> InvalidInput:
    """An `InvalidInput` on the artifact naming the format and a one-line reason."""
    reason = exc if isinstance(exc, str) else (str(exc) or type(exc).__name__)
    first_line = reason.strip().splitlines()[0] if reason.strip() else "unreadable"
    if len(first_line) > _MAX_REASON:
        first_line = first_line[:_MAX_REASON] + "..."
    return InvalidInput(f"could not load {fmt} artifact: {first_line}", field="artifact")


def check_input(X: npt.NDArray[np.generic], width: int) -> None:
    """Raise `InvalidInput(field="inputs")` unless X is 2-D with `width` columns."""
    if not isinstance(X, np.ndarray) or X.ndim != 2:
        ndim = X.ndim if isinstance(X, np.ndarray) else "non-array"
        raise InvalidInput(f"inputs must be a 2-D array, got {ndim} dimensions", field="inputs")
    if X.shape[1] != width:
        raise InvalidInput(
            f"inputs have {X.shape[1]} columns, the model expects {width}", field="inputs"
        )


def check_width(fmt: str, n_features: int | None, feature_names: Sequence[str]) -> int:
    """The input width to enforce; refuse an artifact whose width contradicts the contract."""
    if n_features is not None and n_features != len(feature_names):
        raise InvalidInput(
            f"{fmt} artifact expects {n_features} features but the contract lists "
            f"{len(feature_names)}",
            field="feature_names",
        )
    return len(feature_names)


def resolve_classes(fmt: str, given: list[str] | None, found: Sequence[str] | None,
                    k: int) -> list[str]:
    """Class names for k probability columns: the caller's, else the artifact's, else "0".."k-1"."""
    if given is not None:
        if len(given) != k:
            raise InvalidInput(
                f"{len(given)} class names given but the {fmt} model outputs {k} classes",
                field="classes",
            )
        return [str(c) for c in given]
    if found is not None and len(found) == k:
        return [str(c) for c in found]
    return [str(i) for i in range(k)]


def two_columns(p: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """Turn positive-class probabilities (n,) or (n, 1) into (n, 2) float32 [1-p, p]."""
    pos = np.asarray(p, dtype=np.float32).reshape(-1)
    return np.column_stack((1.0 - pos, pos)).astype(np.float32, copy=False)


def classify(labels: npt.NDArray[np.str_],
             proba: npt.NDArray[np.floating]) -> dict[str, npt.NDArray[np.generic]]:
    """The classifier result: label = class with the highest probability (ties -> first class).

    Every runtime derives the label the same way so the label always agrees with the
    probabilities the client sees, whatever the format.
    """
    probabilities = np.asarray(proba, dtype=np.float32)
    return {"label": labels[np.argmax(probabilities, axis=1)], "probabilities": probabilities}
