"""Recognise an artifact's format and bring it up as a measured, warmed-up runtime."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np
import psutil

from steward.errors import InvalidInput, StewardError
from steward.runtimes.base import FORMATS, LoadedRuntime, Runtime, artifact_error

_EXTENSIONS: dict[str, str] = {
    ".onnx": "onnx",
    ".skops": "skops",
    ".json": "xgboost",
    ".ubj": "xgboost",
    ".txt": "lightgbm",
    ".lgb": "lightgbm",
    ".yaml": "rules",
    ".yml": "rules",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "pickle",
}
# joblib may compress its pickles: zlib, gzip, bz2, xz/lzma, lz4.
_COMPRESSED = (b"\x78", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x5d\x00", b"\x04\x22\x4d\x18")


def _sniff(data: bytes) -> str | None:
    """The format the leading bytes prove, for the formats with a distinctive signature."""
    head = data[:256]
    if head.startswith(b"PK\x03\x04"):
        return "skops"
    if head.startswith(b"tree\n") or head.startswith(b"tree\r\n"):
        return "lightgbm"
    if head.lstrip().startswith(b"{") and b"learner" in head:
        return "xgboost"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "pickle"
    return None


def _looks_like(fmt: str, data: bytes) -> bool:
    """Cheap magic-byte check that the content matches what the extension claims."""
    sniffed = _sniff(data)
    if fmt == "onnx":
        # A ModelProto starts with field 1 (ir_version, varint): tag byte 0x08.
        return sniffed is None and data[:1] == b"\x08"
    if fmt == "pickle":
        return sniffed == "pickle" or data.startswith(_COMPRESSED)
    if fmt == "rules":
        return sniffed is None and b"\x00" not in data[:1024]
    return sniffed == fmt


def detect_format(filename: str, data: bytes) -> str:
    """The artifact format, from the file extension checked against the magic bytes."""
    ext = os.path.splitext(filename.lower())[1]
    fmt = _EXTENSIONS.get(ext)
    if not data:
        raise InvalidInput("the artifact is empty", field="artifact")
    if fmt is None:
        # No usable extension: accept only a signature that is unambiguous on its own.
        sniffed = _sniff(data)
        if sniffed is None:
            raise InvalidInput(
                f"unsupported artifact {filename!r}: expected one of "
                f"{', '.join(sorted(_EXTENSIONS))}",
                field="artifact",
            )
        return sniffed
    if not _looks_like(fmt, data):
        seen = _sniff(data)
        hint = f"; its content looks like {seen}" if seen else ""
        raise InvalidInput(
            f"{filename!r} has a {ext} extension but is not a valid {fmt} artifact{hint}",
            field="artifact",
        )
    return fmt


def _build(fmt: str, data: bytes, feature_names: list[str], trusted: bool,
           classes: list[str] | None) -> Runtime:
    """Construct the runtime for `fmt`; format modules import their library lazily."""
    if fmt == "onnx":
        from steward.runtimes.onnx import OnnxRuntime

        return OnnxRuntime(data, feature_names=feature_names, classes=classes)
    if fmt in ("skops", "pickle"):
        from steward.runtimes.sklearn import load_pickle, load_skops

        load: Callable[..., Runtime] = load_skops if fmt == "skops" else load_pickle
        return load(data, feature_names=feature_names, trusted=trusted, classes=classes)
    if fmt == "xgboost":
        from steward.runtimes.boosting import XGBoostRuntime

        return XGBoostRuntime(data, feature_names=feature_names, classes=classes)
    if fmt == "lightgbm":
        from steward.runtimes.boosting import LightGBMRuntime

        return LightGBMRuntime(data, feature_names=feature_names, classes=classes)
    from steward.runtimes.rules import RulesRuntime

    return RulesRuntime(data, feature_names=feature_names, classes=classes)


def load_runtime(fmt: str, data: bytes, *, feature_names: list[str], trusted: bool = False,
                 classes: list[str] | None = None) -> LoadedRuntime:
    """Load, warm up with one predict, and report cold-start time and RSS growth."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}",
                           field="format")
    if not feature_names:
        raise InvalidInput("the model contract lists no features", field="feature_names")
    process = psutil.Process()
    rss_before = process.memory_info().rss
    start = time.perf_counter()
    runtime = _build(fmt, data, feature_names, trusted, classes)
    try:
        # The first run allocates buffers and JIT-selects kernels; pay that here, not in
        # the first client request.
        runtime.predict(np.zeros((1, len(feature_names)), dtype=np.float64))
    except StewardError:
        raise
    except Exception as exc:
        raise artifact_error(fmt, f"warm-up prediction failed: {exc}") from exc
    cold_start_ms = (time.perf_counter() - start) * 1000.0
    # RSS growth is an estimate: the allocator may reuse freed pages, so clamp at zero.
    memory_bytes = max(0, process.memory_info().rss - rss_before)
    return LoadedRuntime(runtime=runtime, cold_start_ms=cold_start_ms, memory_bytes=memory_bytes)
