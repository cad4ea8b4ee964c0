"""Each landing file's share of the Great Expectations check sample.

The check sample is every `step`-th parsed row of each file, `step` a power
of two chosen from the extract's row count (`staging.check_sample`). Drawing
it reads every row of every file: 9 s of a 100 M-line first run, a fifth
read of the lines. So when a file is parsed, every `base`-th of its rows is
kept beside its parse (`keep_base`); when the extract's step is a multiple
of `base` (both are powers of two), the file's share is every
(step / base)-th row of those: the same rows, without reading the file
again. A share read from a file is stored per parse and step, so an
unchanged file is not read for its share again.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import polars as pl

FOLDER = "sample"


def step_for(rows: int, at_most: int) -> int:
    """The power of two that leaves between `at_most` and twice as many of
    `rows` rows when taking every step-th (1 when they all fit)."""
    return 1 << int(math.log2(rows / at_most)) if rows > at_most else 1


def _path(cache_dir: Path, stem: str, step: int) -> Path:
    return cache_dir / FOLDER / f"{stem}-{step}.parquet"


def _write(frame: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    frame.write_parquet(partial)
    partial.replace(path)


def keep_base(cache_dir: Path, stem: str, rows: pl.DataFrame, at_most: int, files: int) -> None:
    """Keep every base-th of a just-parsed file's `rows` (the parse `stem`).
    The extract's step is not known before all its `files` are parsed, so
    `base` is half the step it would take if every file were this one's size
    (a few thousand rows per file at 100 M lines); for an extract of one file
    the step is known and is the base. A file larger than most may get a base
    above the extract's step; its share is then read from the file, as
    without a base."""
    step = step_for(len(rows) * files, at_most)
    base = step if files == 1 else step // 2
    if base > 1:
        _write(rows.gather_every(base), _path(cache_dir, stem, base))


def stored_share(cache_dir: Path, stem: str, step: int) -> pl.DataFrame | None:
    """Every `step`-th row of the parse `stem`, from its stored share at that
    step or from the kept rows of a smaller power-of-two step (thinned each
    time: they are a few thousand rows); None when neither is stored."""
    exact = _path(cache_dir, stem, step)
    if exact.exists():
        return pl.read_parquet(exact)
    kept = (int(p.stem.rsplit("-", 1)[1]) for p in (cache_dir / FOLDER).glob(f"{stem}-*.parquet"))
    finer = sorted(s for s in kept if s < step and step % s == 0)
    if not finer:
        return None
    return pl.read_parquet(_path(cache_dir, stem, finer[-1])).gather_every(step // finer[-1])


def store_share(cache_dir: Path, stem: str, step: int, share: pl.DataFrame) -> None:
    _write(share, _path(cache_dir, stem, step))


def prune(cache_dir: Path, stems: Iterable[str]) -> None:
    """Remove the shares of parses no longer current."""
    current = set(stems)
    for old in (cache_dir / FOLDER).glob("*"):
        if old.name.rsplit("-", 1)[0] not in current:
            old.unlink(missing_ok=True)
