"""Durable prediction logging: local write-ahead spool files shipped to the database.

Why by hand: we need (a) acknowledged predictions to survive `kill -9` of a worker, (b) no
database transaction per request, and (c) serving to continue while the database is briefly
unreachable. Each serving process appends lines (`predictions.records`) to its own spool file —
one `write(2)` into the kernel before the response is sent (sync mode) — and holds an `flock` on
it while it lives.

One `SpoolShipper` per data folder (elected by an `flock` on `.shipper.lock`) group-commits new
lines of every spool file to the database (batches of ~500 rows per transaction) and records
per-file offsets in sidecars. Files whose owner is gone (rotated, exited or killed: the lock is
released) are shipped to the end and deleted. Inserts are idempotent on
(request_id, route, version_id), so a replay after a crash never duplicates. Under
`steward serve` the shipper runs in the background process, never in a serving worker, so
shipping never competes with requests for the GIL.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

Sink = Callable[[Sequence[bytes]], None]  # receives complete lines, without the newline
SUFFIXES = (".spool", ".jsonl")  # .jsonl: files written before 0.1.1
BATCH = 2000  # lines per database transaction


def _lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


class Spool:
    """The writing side: this process's append-only spool file (rotated by size)."""

    def __init__(self, folder: Path, *, durability: str = "sync",
                 rotate_bytes: int = 64 * 1024 * 1024) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._sync = durability == "sync"
        self._rotate_bytes = rotate_bytes
        self._buffer: list[bytes] = []
        self._lock = threading.Lock()
        self._fd, self.path = self._open()
        self._written = 0

    def _open(self) -> tuple[int, Path]:
        path = self.folder / f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}.spool"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        _lock(fd)  # a fresh file: nobody else can hold it
        return fd, path

    def append(self, data: bytes) -> None:
        """Record complete newline-terminated lines; in sync mode they are in the kernel
        before this returns."""
        with self._lock:
            if self._sync:
                self._write(data)
            else:
                self._buffer.append(data)

    def drain(self) -> None:
        """Write buffered (async-mode) records to the file."""
        with self._lock:
            if self._buffer:
                data, self._buffer = b"".join(self._buffer), []
                self._write(data)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]
        self._written += len(data)
        if self._written >= self._rotate_bytes:
            # Closing releases the flock: the shipper ships the rest of the old file, deletes it.
            old = self._fd
            self._fd, self.path = self._open()
            self._written = 0
            os.close(old)

    def close(self) -> None:
        """Write what is buffered and release the file (the shipper finishes it)."""
        self.drain()
        with self._lock:
            os.close(self._fd)
            self._fd = -1


class SpoolShipper:
    """Ships every spool file of a folder to the database; one active shipper per folder."""

    def __init__(self, folder: Path, sink: Sink, *, interval_s: float = 0.1,
                 before_pass: Callable[[], None] | None = None) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._sink = sink
        self._interval = interval_s
        self._before_pass = before_pass
        self._leader_fd = os.open(folder / ".shipper.lock", os.O_RDWR | os.O_CREAT, 0o600)
        self._leader = False
        self._offsets: dict[Path, int] = {}
        self._pass_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0

    def start(self) -> None:
        """Ship in a daemon thread until `stop`."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="steward-shipper",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Ship what is there and stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        try:
            self.ship_pass()
        except Exception as exc:
            log.warning("final prediction log shipping failed (%s); it stays spooled",
                        exc.__class__.__name__)
        if self._leader:
            fcntl.flock(self._leader_fd, fcntl.LOCK_UN)
            self._leader = False
        os.close(self._leader_fd)
        self._leader_fd = -1

    def ship_pass(self, *, release: bool = False) -> int:
        """Ship every complete new line of every file once (if this is the active shipper).

        `release=True` gives the shipper role back afterwards: a serving worker uses it to
        ship on demand (e.g. before joining feedback) when no background shipper is running
        yet, without keeping the background process from taking over."""
        with self._pass_lock:
            if not self._leader:
                self._leader = _lock(self._leader_fd)
                if not self._leader:
                    return 0
            try:
                if self._before_pass is not None:
                    self._before_pass()
                shipped = 0
                for path in self._files():
                    shipped += self._ship_file(path)
                return shipped
            finally:
                if release:
                    fcntl.flock(self._leader_fd, fcntl.LOCK_UN)
                    self._leader = False

    def pending_bytes(self) -> int:
        """Bytes written to spool files but not yet shipped."""
        total = 0
        for path in self._files():
            try:
                total += path.stat().st_size - self._offset(path)
            except FileNotFoundError:
                continue
        return total

    def _files(self) -> list[Path]:
        return sorted(p for p in self.folder.iterdir() if p.suffix in SUFFIXES)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.ship_pass()
                self.failures = 0
            except Exception as exc:  # database down: keep spooling, retry with backoff
                self.failures += 1
                log.warning("prediction log shipping failed (%s); spooled locally, retrying",
                            exc.__class__.__name__)
            self._stop.wait(min(self._interval * (2 ** min(self.failures, 6)), 5.0))

    def _offset(self, path: Path) -> int:
        if path not in self._offsets:
            try:
                self._offsets[path] = int(path.with_suffix(".offset").read_text() or 0)
            except (FileNotFoundError, ValueError):
                self._offsets[path] = 0
        return self._offsets[path]

    def _ship_file(self, path: Path) -> int:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return 0
        try:
            orphan = _lock(fd)  # the owner is gone: this is the last pass over the file
            offset = self._offset(path)
            size = os.fstat(fd).st_size
            shipped = 0
            if size > offset:
                data = os.pread(fd, size - offset, offset)
                end = data.rfind(b"\n") + 1
                lines = data[:end].splitlines()
                for start in range(0, len(lines), BATCH):
                    self._sink([x for x in lines[start:start + BATCH] if x])
                    time.sleep(0)
                shipped = len(lines)
                offset += end
                self._offsets[path] = offset
                tmp = path.with_suffix(".offset.tmp")
                tmp.write_text(str(offset))
                os.replace(tmp, path.with_suffix(".offset"))
            if orphan:
                path.unlink(missing_ok=True)
                path.with_suffix(".offset").unlink(missing_ok=True)
                self._offsets.pop(path, None)
                if shipped:
                    log.info("shipped the rest of released spool %s", path.name)
            return shipped
        finally:
            os.close(fd)
