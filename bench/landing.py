"""Generated landing directories, cached by their parameters under bench/data/.

A landing directory is complete when the generator's `_SUCCESS` marker is
there; a complete one with the same parameters is reused as it is (the
generator is deterministic, so it would write the same bytes).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from tools.sample_data import generate

DATA = Path(__file__).resolve().parent / "data"
GIB = 1024**3

#: Rough bytes per invoice line, to refuse a step the disk cannot hold:
#: the landing files, and a run's working database, staging Parquet and published copy.
LANDING_BYTES_PER_LINE = {"csv": 75, "parquet": 15}
RUN_BYTES_PER_LINE = 120
DISK_MARGIN = 5 * GIB


@dataclass(frozen=True)
class Params:
    """Everything that determines a landing set (and so a comparable result)."""

    lines: int
    fmt: str
    defect_rate: float | None
    accounts: int
    seed: int
    as_of: str

    @property
    def name(self) -> str:
        defects = f"-defects{self.defect_rate:g}" if self.defect_rate else ""
        return f"{self.fmt}-{self.lines:.0e}-a{self.accounts}-s{self.seed}-{self.as_of}{defects}".replace("+", "")

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Landing:
    path: Path
    generated: bool
    generate_seconds: float
    bytes: int


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def check_disk(params: Params, cached: bool) -> None:
    """Raise when the free space cannot hold the step (landing unless cached, plus the run)."""
    needed = params.lines * RUN_BYTES_PER_LINE + DISK_MARGIN
    if not cached:
        needed += params.lines * LANDING_BYTES_PER_LINE[params.fmt]
    free = shutil.disk_usage(DATA.parent).free
    if free < needed:
        raise RuntimeError(f"not enough disk for {params.name}: {free / GIB:.1f} GiB free, ~{needed / GIB:.1f} needed")


def landing_dir(params: Params) -> Path:
    return DATA / "landing" / params.name


def ensure_landing(params: Params) -> Landing:
    """The cached landing set for `params`, generated first when missing."""
    path = landing_dir(params)
    cached = (path / "_SUCCESS").exists()
    check_disk(params, cached)
    if cached:
        return Landing(path, generated=False, generate_seconds=0.0, bytes=folder_bytes(path))
    started = time.perf_counter()
    generate(
        path,
        seed=params.seed,
        accounts=params.accounts,
        invoice_lines=params.lines,
        as_of=date.fromisoformat(params.as_of),
        fmt=params.fmt,  # type: ignore[arg-type]
        defect_rate=params.defect_rate,
    )
    return Landing(path, generated=True, generate_seconds=time.perf_counter() - started, bytes=folder_bytes(path))
