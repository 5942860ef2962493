"""Model runtimes: load an artifact in a safe format and predict on contract-ordered arrays."""

from __future__ import annotations

from steward.runtimes.base import FORMATS, LoadedRuntime, Runtime
from steward.runtimes.loader import detect_format, load_runtime

__all__ = ["FORMATS", "LoadedRuntime", "Runtime", "detect_format", "load_runtime"]
