"""Run control: one run per warehouse at a time, and a commit that signals cannot split.

The run lock is an `fcntl.flock` on `.<warehouse>.run.lock` next to the
published file. The operating system releases it when the holding process
ends, however it ends (kill -9 included), so a killed run never leaves a
stale lock behind; the file itself stays and only tells who holds it (pid and
start time). The lock is re-entrant within a process: `kam-pipeline run`
takes it before it starts the job, and the job's settings resource (the run
worker of a Dagster UI or schedule run) takes it again without deadlocking.
docs/publishing.md describes the rule.
"""

from __future__ import annotations

import fcntl
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

LOCK_SUFFIX = ".run.lock"
#: Signals an operator or a scheduler stops a run with; deferred during a commit.
INTERRUPTS = (signal.SIGTERM, signal.SIGINT)

_held: dict[Path, tuple[int, int]] = {}  # lock file -> (file descriptor, re-entries) held by this process


class RunInProgressError(RuntimeError):
    """Another process holds the warehouse's run lock."""


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(f".{warehouse.name}{LOCK_SUFFIX}")


def _holder(fd: int) -> str:
    """What the holder wrote: `pid N, started at T` (blank while it is still writing)."""
    text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    return text or "pid unknown, just starting"


@contextmanager
def run_lock(warehouse: Path, started_at: datetime | None = None) -> Iterator[None]:
    """Hold the run lock of `warehouse` for the block, or raise RunInProgressError
    at once (no wait: a second nightly run has nothing useful to wait for)."""
    path = lock_path(warehouse).resolve()
    if path in _held:
        fd, depth = _held[path]
        _held[path] = (fd, depth + 1)
        try:
            yield
        finally:
            _held[path] = (fd, _held[path][1] - 1)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunInProgressError(f"another run is in progress ({_holder(fd)})") from None
        started = (started_at or datetime.now(UTC)).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, started at {started}\n".encode(), 0)
        _held[path] = (fd, 1)
        try:
            yield
        finally:
            del _held[path]
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold SIGTERM and SIGINT back for the block and deliver them after it, to
    the handlers in place before (Dagster's turn them into an interrupted step).
    The publish's commit (run log, swap, fsync) runs in here, so an interrupt
    lands either before it (nothing published) or after it (all recorded).
    Outside the main thread signals cannot be caught and the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def record(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, record) for sig in INTERRUPTS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for signum in dict.fromkeys(received):
            signal.raise_signal(signum)
