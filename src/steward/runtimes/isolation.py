"""Parse native boosting models in a throwaway child process before loading them here.

XGBoost's UBJ reader and LightGBM's text parser can segfault or abort on corrupt input
(found by fuzzing truncated and bit-flipped files). A crash must kill a child, not the
server that received the upload, so those formats are parsed once in a subprocess first.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from steward.runtimes.base import artifact_error

PROBE_TIMEOUT_S = 60.0
# Prefixes the child's error line, so it stands out from the libraries' own log output.
_MARK = "steward-probe-error: "

_CHILD = r"""
import sys
# The probe needs only the native parser; blocking the optional integrations cuts the
# child's start-up from ~4 s (sklearn, pandas) to well under one.
for name in ("sklearn", "pandas", "pyarrow", "dask", "cudf", "cupy", "matplotlib", "graphviz"):
    sys.modules[name] = None
import numpy as np

fmt, width, _MARK = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = sys.stdin.buffer.read()
X = np.zeros((1, width))
try:
    if fmt == "xgboost":
        import xgboost
        booster = xgboost.Booster()
        booster.load_model(bytearray(data))
        if booster.num_features() == width:  # else the parent reports the contract mismatch
            booster.inplace_predict(X)
    else:
        import lightgbm
        booster = lightgbm.Booster(model_str=data.decode("utf-8"))
        if booster.num_feature() == width:
            booster.predict(X)
except Exception as exc:
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    print("\n" + _MARK + lines[0], flush=True)
    sys.exit(1)
"""


def probe_native(fmt: str, data: bytes, width: int) -> None:
    """Raise `InvalidInput` unless a child process parses `data` and predicts one row.

    A clean parse error in the child is reported too, not retried here: some of these
    faults are reads past the buffer, which raise in one process and crash another.
    """
    # One OpenMP thread: the probe parses a single file and predicts one row.
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    try:
        proc = subprocess.run(
            [sys.executable, "-I", "-c", _CHILD, fmt, str(width), _MARK],
            input=data, capture_output=True, timeout=PROBE_TIMEOUT_S, check=False, env=env,
        )
    except subprocess.TimeoutExpired as exc:
        raise artifact_error(
            fmt, f"parsing did not finish within {PROBE_TIMEOUT_S:.0f} s") from exc
    if proc.returncode < 0:
        name = signal.Signals(-proc.returncode).name
        raise artifact_error(fmt, f"the file crashed the {fmt} parser ({name}); it is corrupt")
    if proc.returncode == 1:
        out = proc.stdout.decode("utf-8", "replace")
        reason = out.rpartition(_MARK)[2].strip() if _MARK in out else "unreadable"
        raise artifact_error(fmt, reason)
    if proc.returncode != 0:
        raise artifact_error(fmt, f"the {fmt} parser exited with status {proc.returncode}")
