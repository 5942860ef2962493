"""The prediction spool: durable across kill -9, shipped by one shipper, idempotent replay."""

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

import orjson

from steward.predictions.spool import Spool, SpoolShipper


def _lines(records: Sequence[dict[str, Any]]) -> bytes:
    """The spool carries opaque lines; these tests use one JSON object per line."""
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def _into(out: list[dict[str, Any]]) -> Any:
    return lambda lines: out.extend(orjson.loads(x) for x in lines)


CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from steward.predictions.spool import Spool

    spool = Spool(Path(sys.argv[1]))
    for i in range(500):
        spool.append(b'{"request_id": "r%d", "i": %d}\\n' % (i, i))
    print("acknowledged", flush=True)
    time.sleep(60)
""")


def test_acknowledged_records_survive_kill_9_and_are_shipped(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "acknowledged"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stdout.close()
    shipped: list[dict[str, Any]] = []
    shipper = SpoolShipper(tmp_path, _into(shipped))
    assert shipper.ship_pass() == 500
    assert sorted(r["i"] for r in shipped) == list(range(500))
    assert list(tmp_path.glob("*.spool")) == []  # the released file is finished and removed
    shipper.stop()


def test_live_files_are_shipped_incrementally_and_kept(tmp_path: Path) -> None:
    shipped: list[dict[str, Any]] = []
    spool = Spool(tmp_path)
    shipper = SpoolShipper(tmp_path, _into(shipped))
    spool.append(_lines([{"request_id": "a"}]))
    shipper.ship_pass()
    spool.append(_lines([{"request_id": "b"}, {"request_id": "c"}]))
    shipper.ship_pass()
    shipper.ship_pass()  # nothing new: nothing shipped twice
    assert [r["request_id"] for r in shipped] == ["a", "b", "c"]
    assert spool.path.exists() and shipper.pending_bytes() == 0
    spool.close()
    shipper.ship_pass()
    assert not spool.path.exists()
    shipper.stop()


def test_one_shipper_per_folder(tmp_path: Path) -> None:
    first: list[dict[str, Any]] = []
    second: list[dict[str, Any]] = []
    spool = Spool(tmp_path)
    a, b = SpoolShipper(tmp_path, _into(first)), SpoolShipper(tmp_path, _into(second))
    spool.append(_lines([{"request_id": "x"}]))
    assert a.ship_pass() == 1 and b.ship_pass() == 0
    spool.append(_lines([{"request_id": "w"}]))
    c_out: list[dict[str, Any]] = []
    c = SpoolShipper(tmp_path, _into(c_out))
    assert c.ship_pass(release=True) == 0  # one-shot shipping never steals an active role
    assert a.ship_pass() == 1
    a.stop()  # the leader leaves: the other takes over
    spool.append(_lines([{"request_id": "y"}]))
    assert b.ship_pass(release=True) == 1 and [r["request_id"] for r in second] == ["y"]
    spool.append(_lines([{"request_id": "z"}]))
    assert c.ship_pass() == 1  # released: a standing shipper can take the role
    spool.close()
    b.stop()
    c.stop()


def test_records_wait_on_disk_while_the_sink_fails(tmp_path: Path) -> None:
    calls: list[int] = []
    shipped: list[dict[str, Any]] = []

    def flaky(lines: Sequence[bytes]) -> None:
        calls.append(len(lines))
        if len(calls) == 1:
            raise ConnectionError("down")
        shipped.extend(orjson.loads(x) for x in lines)

    spool = Spool(tmp_path)
    shipper = SpoolShipper(tmp_path, flaky)
    spool.append(_lines([{"request_id": "a"}, {"request_id": "b"}]))
    with contextlib.suppress(ConnectionError):
        shipper.ship_pass()
    assert shipped == [] and shipper.pending_bytes() > 0
    shipper.ship_pass()
    assert [r["request_id"] for r in shipped] == ["a", "b"]
    assert shipper.pending_bytes() == 0
    spool.close()
    shipper.stop()


def test_async_mode_buffers_until_drained(tmp_path: Path) -> None:
    shipped: list[dict[str, Any]] = []
    spool = Spool(tmp_path, durability="async")
    shipper = SpoolShipper(tmp_path, _into(shipped), before_pass=spool.drain)
    spool.append(_lines([{"request_id": "x"}]))
    assert spool.path.stat().st_size == 0  # still in memory: the documented loss window
    shipper.ship_pass()
    assert shipped == [{"request_id": "x"}]
    spool.close()
    shipper.stop()


def test_rotation_hands_the_old_file_to_the_shipper(tmp_path: Path) -> None:
    shipped: list[dict[str, Any]] = []
    spool = Spool(tmp_path, rotate_bytes=100)
    first = spool.path
    spool.append(_lines([{"request_id": str(i), "pad": "x" * 50} for i in range(5)]))
    assert spool.path != first
    spool.append(_lines([{"request_id": "after"}]))
    shipper = SpoolShipper(tmp_path, _into(shipped))
    shipper.ship_pass()
    assert not first.exists() and len(shipped) == 6
    spool.close()
    shipper.stop()
