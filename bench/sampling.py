"""Memory and CPU time of a process tree, sampled in a background thread.

The resident set size (RSS) and the CPU time (user + system) of a process and
all its descendants are summed every `interval` seconds with psutil. Samples
keep their wall-clock time, so that a peak or the CPU seconds can be
attributed to the job step running at that moment (CPU time is the figure
that stays comparable when other work shares the machine). An
optional ceiling kills the tree when it is crossed: on a shared machine
without swap a runaway benchmark must not wake the kernel's OOM killer.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import psutil

GIB = 1024**3


def tree_usage(root: psutil.Process) -> tuple[int, float]:
    """Bytes resident in `root` and its descendants, and their CPU seconds
    ((0, 0.0) once it has exited)."""
    rss, cpu = 0, 0.0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0.0
    for process in processes:
        try:
            with process.oneshot():
                rss += process.memory_info().rss
                times = process.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        cpu += times.user + times.system
    return rss, cpu


@dataclass
class TreeSampler:
    """Context manager sampling RSS and CPU time of process `pid` and its children."""

    pid: int
    interval: float = 0.05
    limit_bytes: int | None = None
    samples: list[tuple[float, int, float]] = field(default_factory=list)  # (time, rss, cpu seconds)
    killed_at_bytes: int | None = None

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop.is_set():
            rss, cpu = tree_usage(root)
            if rss:
                self.samples.append((time.time(), rss, cpu))
            if self.limit_bytes and rss > self.limit_bytes and self.killed_at_bytes is None:
                self.killed_at_bytes = rss
                _kill_tree(root)
            self._stop.wait(self.interval)

    @property
    def peak(self) -> int:
        return max((rss for _, rss, _ in self.samples), default=0)

    def peak_between(self, start: float, end: float) -> int:
        """Highest RSS sampled in [start, end] (wall-clock seconds)."""
        return max((rss for t, rss, _ in self.samples if start <= t <= end), default=0)

    def cpu_between(self, start: float, end: float) -> float:
        """CPU seconds used between the samples nearest to `start` and `end`."""
        if not self.samples:
            return 0.0
        return self._cpu_at(end) - self._cpu_at(start)

    def _cpu_at(self, moment: float) -> float:
        return min(self.samples, key=lambda sample: abs(sample[0] - moment))[2]


def _kill_tree(root: psutil.Process) -> None:
    """Kill the process tree we started (children first)."""
    try:
        children = root.children(recursive=True)
    except psutil.NoSuchProcess:
        return
    for process in [*children, root]:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            continue
