"""scikit-learn estimators from skops files (safe) or pickle/joblib files (trusted only)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import numpy.typing as npt

from steward.errors import InvalidInput
from steward.runtimes.base import (
    CLASSIFICATION,
    REGRESSION,
    artifact_error,
    check_input,
    check_width,
    classify,
    resolve_classes,
)

# skops reports the types it would have to import; these are the ones we accept without an
# explicit trust flag. Whole packages for sklearn/numpy/scipy, but only data types from
# builtins: `builtins.eval`/`exec`/`open` would also match a "builtins." prefix.
_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.")
_TRUSTED_BUILTINS = frozenset(
    f"builtins.{name}"
    for name in ("bool", "int", "float", "complex", "str", "bytes", "bytearray", "list",
                 "tuple", "dict", "set", "frozenset", "slice", "range", "NoneType", "object")
)

PICKLE_REFUSED = (
    "pickle/joblib artifacts can execute arbitrary code when loaded; upload a skops or ONNX "
    "file instead, or load it with the explicit trust flag (trusted=True)"
)


def _allowed(type_name: str) -> bool:
    """Whether skops may construct this type without the caller vouching for the file."""
    return type_name.startswith(_TRUSTED_PREFIXES) or type_name in _TRUSTED_BUILTINS


class SklearnRuntime:
    """Wraps a fitted estimator (or pipeline) behind the `Runtime` protocol."""

    def __init__(self, estimator: Any, *, fmt: str, feature_names: list[str],
                 classes: list[str] | None = None) -> None:
        if not hasattr(estimator, "predict"):
            raise artifact_error(fmt, f"{type(estimator).__name__} has no predict method")
        self.format = fmt
        self._estimator = estimator
        n_in = getattr(estimator, "n_features_in_", None)
        self.n_features: int | None = int(n_in) if n_in is not None else None
        self._width = check_width(fmt, self.n_features, feature_names)
        self._columns = self._column_order(fmt, estimator, feature_names)
        model_classes = getattr(estimator, "classes_", None)
        if hasattr(estimator, "predict_proba") and model_classes is not None:
            self.task = CLASSIFICATION
            found = [str(c) for c in model_classes]
            self.classes: list[str] | None = resolve_classes(fmt, classes, found, len(found))
            self._labels = np.asarray(self.classes)
        else:
            self.task = REGRESSION
            self.classes = None

    @staticmethod
    def _column_order(fmt: str, estimator: Any,
                      feature_names: list[str]) -> tuple[list[str], list[int]] | None:
        """For estimators fitted on a DataFrame: their column names and where each sits in
        the contract. Such estimators warn on bare arrays and rely on column names."""
        fitted = getattr(estimator, "feature_names_in_", None)
        if fitted is None:
            return None
        names = [str(n) for n in fitted]
        missing = sorted(set(names) - set(feature_names))
        if missing:
            raise InvalidInput(
                f"{fmt} model was fitted on features missing from the contract: {missing}",
                field="feature_names",
            )
        position = {name: i for i, name in enumerate(feature_names)}
        return names, [position[n] for n in names]

    def _frame(self, X: npt.NDArray[np.generic]) -> Any:
        """X as the estimator expects it: a bare array, or a named frame in fitted order."""
        if self._columns is None:
            return X
        import pandas as pd  # only estimators fitted on frames need pandas

        names, order = self._columns
        return pd.DataFrame(X[:, order], columns=names)

    def predict(self, X: npt.NDArray[np.generic]) -> dict[str, npt.NDArray[np.generic]]:
        """predict_proba for classifiers, predict for regressors."""
        check_input(X, self._width)
        try:
            if self.task == CLASSIFICATION:
                return classify(self._labels, self._estimator.predict_proba(self._frame(X)))
            return {"prediction": np.asarray(self._estimator.predict(self._frame(X))).reshape(-1)}
        except (TypeError, ValueError) as exc:  # sklearn's input validation errors
            raise InvalidInput(f"inputs rejected by the model: {exc}", field="inputs") from exc


def load_skops(data: bytes, *, feature_names: list[str], trusted: bool = False,
               classes: list[str] | None = None) -> SklearnRuntime:
    """Load a skops file, constructing only allow-listed types unless `trusted`."""
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # a corrupt zip or schema surfaces as many exception types
        raise artifact_error("skops", exc) from exc
    refused = sorted(t for t in untrusted if not _allowed(t))
    if refused and not trusted:
        raise InvalidInput(
            f"skops artifact contains types outside the sklearn/numpy/scipy allow-list: "
            f"{', '.join(refused)}; load it with trusted=True only if you trust its source",
            field="artifact",
        )
    try:
        estimator = sio.loads(data, trusted=untrusted)
    except Exception as exc:
        raise artifact_error("skops", exc) from exc
    return SklearnRuntime(estimator, fmt="skops", feature_names=feature_names, classes=classes)


def load_pickle(data: bytes, *, feature_names: list[str], trusted: bool = False,
                classes: list[str] | None = None) -> SklearnRuntime:
    """Load a pickle/joblib file, but only when the caller has explicitly trusted it."""
    if not trusted:
        raise InvalidInput(PICKLE_REFUSED, field="artifact")
    import joblib

    try:
        estimator = joblib.load(io.BytesIO(data))
    except Exception as exc:  # unpickling can raise anything at all
        raise artifact_error("pickle", exc) from exc
    return SklearnRuntime(estimator, fmt="pickle", feature_names=feature_names, classes=classes)
