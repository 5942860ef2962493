"""The prediction spool: durable across kill -9, replayed by siblings, idempotent shipping."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from steward.predictions.spool import Spool

CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from steward.predictions.spool import Spool

    def down(records):
        raise ConnectionError("database unreachable")

    spool = Spool(Path(sys.argv[1]), down)
    spool.start()
    for i in range(500):
        spool.append([{"request_id": f"r{i}", "i": i}])
    print("acknowledged", flush=True)
    time.sleep(60)
""")


def test_acknowledged_records_survive_kill_9_and_are_replayed(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "acknowledged"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stdout.close()
    shipped: list[dict[str, Any]] = []
    sibling = Spool(tmp_path, shipped.extend)
    sibling.flush()
    assert sorted(r["i"] for r in shipped) == list(range(500))
    assert [p.name for p in tmp_path.glob("*.jsonl")] == [sibling._file.path.name]


def test_records_wait_on_disk_while_the_sink_fails(tmp_path: Path) -> None:
    calls: list[int] = []
    shipped: list[dict[str, Any]] = []

    def flaky(records: Sequence[dict[str, Any]]) -> None:
        calls.append(len(records))
        if len(calls) == 1:
            raise ConnectionError("down")
        shipped.extend(records)

    spool = Spool(tmp_path, flaky)
    spool.append([{"request_id": "a"}, {"request_id": "b"}])
    with contextlib.suppress(ConnectionError):
        spool.flush()
    assert shipped == [] and spool.pending_bytes() > 0
    spool.flush()
    assert [r["request_id"] for r in shipped] == ["a", "b"]
    assert spool.pending_bytes() == 0


def test_async_mode_buffers_then_ships(tmp_path: Path) -> None:
    shipped: list[dict[str, Any]] = []
    spool = Spool(tmp_path, shipped.extend, durability="async")
    spool.append([{"request_id": "x"}])
    assert spool.pending_bytes() == 0  # still in memory: the documented loss window
    spool.flush()
    assert shipped == [{"request_id": "x"}]


def test_rotation_removes_shipped_files(tmp_path: Path) -> None:
    shipped: list[dict[str, Any]] = []
    spool = Spool(tmp_path, shipped.extend, rotate_bytes=100)
    spool.append([{"request_id": str(i), "pad": "x" * 50} for i in range(5)])
    first = spool._file.path
    spool.flush()
    spool._maybe_rotate()
    assert not first.exists() and spool._file.path != first
    spool.append([{"request_id": "after"}])
    spool.flush()
    assert len(shipped) == 6
