"""Run lock and deferred interrupts (kam_pipeline/warehouse/run_control.py), with real processes and signals."""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kam_pipeline.warehouse.run_control import RunInProgressError, deferred_interrupts, lock_path, run_lock

HOLDER = """
import sys, time
from pathlib import Path
from kam_pipeline.warehouse.run_control import run_lock
with run_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(600)
"""


def _hold_in_another_process(warehouse: Path) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(warehouse)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    return holder


def test_a_second_holder_is_refused_with_pid_and_start_time(tmp_path: Path) -> None:
    warehouse = tmp_path / "kam.duckdb"
    holder = _hold_in_another_process(warehouse)
    try:
        refused = rf"^another run is in progress \(pid {holder.pid}, started at "
        with pytest.raises(RunInProgressError, match=refused), run_lock(warehouse):
            pass
    finally:
        holder.kill()
        holder.wait()
    with run_lock(warehouse):  # kill -9 left no stale lock: the OS released it
        assert f"pid {os.getpid()}" in lock_path(warehouse).read_text()


def test_the_lock_is_reentrant_within_a_process_and_released_after_the_outer_block(tmp_path: Path) -> None:
    warehouse = tmp_path / "kam.duckdb"
    started = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    with run_lock(warehouse, started):
        with run_lock(warehouse):  # the CLI holds it, the run's resource takes it again
            pass
        probe = subprocess.run(
            [sys.executable, "-c", HOLDER.replace("time.sleep(600)", "pass"), str(warehouse)],
            capture_output=True,
            text=True,
        )
        assert probe.returncode == 1
        assert f"another run is in progress (pid {os.getpid()}, started at 2026-11-29T02:00:00+00:00)" in probe.stderr
    probe = subprocess.run([sys.executable, "-c", HOLDER.replace("time.sleep(600)", "pass"), str(warehouse)])
    assert probe.returncode == 0


def test_interrupts_wait_for_the_end_of_the_section_then_reach_the_previous_handler() -> None:
    received: list[tuple[int, float]] = []

    def handler(signum: int, _frame: object) -> None:
        received.append((signum, time.monotonic()))

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        with deferred_interrupts():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # a delivered signal would have run the handler by now
            assert received == []
            left = time.monotonic()
        assert [signum for signum, _ in received] == [signal.SIGTERM]
        assert received[0][1] >= left
        with deferred_interrupts():  # nothing received: nothing delivered
            pass
        assert len(received) == 1
        assert signal.getsignal(signal.SIGTERM) is handler  # the previous handler is back
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_an_interrupt_raising_after_the_section_does_not_cut_it_short() -> None:
    """Dagster's step handler raises: the section still completes first."""
    done = []

    def raising(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, raising)
    try:
        with pytest.raises(KeyboardInterrupt), deferred_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            done.append("committed")
        assert done == ["committed"]
    finally:
        signal.signal(signal.SIGINT, previous)
