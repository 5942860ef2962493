"""Durable prediction logging: a local write-ahead spool shipped to the database in batches.

Why by hand: we need (a) acknowledged predictions to survive `kill -9` of a worker, (b) no
database transaction per request, and (c) serving to continue while the database is briefly
unreachable. A per-process append-only JSONL file gives all three: `append` is one `write(2)`
into the kernel before the response is sent (sync mode), and a shipper thread group-commits
everything new to the database, fdatasyncs the file and records its offset. Files of dead
processes (their `flock` released) are adopted and replayed by any live sibling; inserts are
idempotent on (request_id, route, version_id), so a replay after a crash never duplicates.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger(__name__)

Sink = Callable[[Sequence[dict[str, Any]]], None]


class _SpoolFile:
    """One append-only JSONL file plus its shipped-offset sidecar, locked by its owner."""

    def __init__(self, path: Path, *, create: bool) -> None:
        self.path = path
        flags = os.O_RDWR | os.O_APPEND | (os.O_CREAT if create else 0)
        self.fd = os.open(path, flags, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise
        self.offset_path = path.with_suffix(".offset")
        try:
            self.offset = int(self.offset_path.read_text() or 0)
        except (FileNotFoundError, ValueError):
            self.offset = 0

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]

    def read_new(self) -> tuple[bytes, int]:
        """Complete lines written since the shipped offset, and the offset after them."""
        size = os.fstat(self.fd).st_size
        if size <= self.offset:
            return b"", self.offset
        data = os.pread(self.fd, size - self.offset, self.offset)
        end = data.rfind(b"\n") + 1
        return data[:end], self.offset + end

    def commit(self, offset: int) -> None:
        os.fdatasync(self.fd)
        tmp = self.offset_path.with_suffix(".offset.tmp")
        tmp.write_text(str(offset))
        os.replace(tmp, self.offset_path)
        self.offset = offset

    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        self.offset_path.unlink(missing_ok=True)
        os.close(self.fd)


class Spool:
    """Per-process spool with a background shipper thread."""

    def __init__(self, folder: Path, sink: Sink, *, durability: str = "sync",
                 interval_s: float = 0.05, rotate_bytes: int = 64 * 1024 * 1024) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._sink = sink
        self._sync = durability == "sync"
        self._interval = interval_s
        self._rotate_bytes = rotate_bytes
        self._buffer: list[bytes] = []
        self._lock = threading.Lock()
        self._ship_lock = threading.Lock()
        self._stop = threading.Event()
        self._file = self._new_file()
        self._thread: threading.Thread | None = None
        self._last_adopt = 0.0
        self.failures = 0

    def _new_file(self) -> _SpoolFile:
        name = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
        return _SpoolFile(self.folder / name, create=True)

    def append(self, records: Sequence[dict[str, Any]]) -> None:
        """Record predictions; in sync mode they are in the kernel before this returns."""
        data = b"".join(orjson.dumps(r, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n"
                        for r in records)
        if self._sync:
            with self._lock:
                self._file.write(data)
        else:
            with self._lock:
                self._buffer.append(data)

    def start(self) -> None:
        """Start shipping in a daemon thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="steward-spool", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Ship what is left and stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        with contextlib.suppress(Exception):
            self.flush()

    def flush(self) -> None:
        """Synchronously ship everything written so far (and adopt orphans)."""
        with self._ship_lock:
            self._drain_buffer()
            self._ship(self._file)
            self._adopt_orphans(force=True)

    def pending_bytes(self) -> int:
        """Bytes written but not yet shipped to the database."""
        return self._file.size() - self._file.offset

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self._ship_lock:
                    self._drain_buffer()
                    self._ship(self._file)
                    self._maybe_rotate()
                    self._adopt_orphans()
                self.failures = 0
            except Exception as exc:  # database down: keep spooling, retry with backoff
                self.failures += 1
                log.warning("prediction log shipping failed (%s); spooled locally, retrying",
                            exc.__class__.__name__)
            self._stop.wait(min(self._interval * (2 ** min(self.failures, 6)), 5.0))

    def _drain_buffer(self) -> None:
        if self._buffer:
            with self._lock:
                data, self._buffer = b"".join(self._buffer), []
                self._file.write(data)

    def _ship(self, spool: _SpoolFile) -> None:
        data, offset = spool.read_new()
        if not data:
            return
        lines = data.splitlines()
        # Small batches: each one holds the GIL briefly, so request latency stays flat.
        for start in range(0, len(lines), 500):
            self._sink([orjson.loads(line) for line in lines[start:start + 500] if line])
            time.sleep(0)
        spool.commit(offset)

    def _maybe_rotate(self) -> None:
        current = self._file
        if current.size() >= self._rotate_bytes and current.offset >= current.size():
            with self._lock:
                self._file = self._new_file()
            current.remove()

    def _adopt_orphans(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_adopt < 1.0:
            return
        self._last_adopt = now
        for path in self.folder.glob("*.jsonl"):
            if path == self._file.path:
                continue
            try:
                orphan = _SpoolFile(path, create=False)
            except (BlockingIOError, FileNotFoundError):
                continue  # a live process owns it, or it just went away
            try:
                self._ship(orphan)
                orphan.remove()
                log.info("replayed orphaned prediction spool %s", path.name)
            except Exception:
                os.close(orphan.fd)
                raise
