"""Parsed landing files, kept as Parquet until the file changes.

Parsing is the most expensive step for CSV extracts, and a nightly rerun
usually sees the same files again. Each file's parsed rows (contract types,
source position) and its parse rejections are stored under a key made of the
file's name, size and modification time, of the contract's column types and
of the file's CSV dialect, so a changed file, contract or dialect is parsed
again. The rules are
evaluated on every run: a cache hit saves parsing, never validation.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from kam_pipeline.ingest.contract import Extract
from kam_pipeline.ingest.parsing import LandingFile, parse_file

#: Bump when parsing changes in a way that changes its output.
PARSER_VERSION = 2


@dataclass(frozen=True)
class CachedParse:
    """One landing file parsed: where its rows are, what did not parse."""

    source_name: str
    rows_path: Path
    rejected: pl.DataFrame
    rows_read: int
    rows_parsed: int
    hit: bool


def _key(extract: Extract, file: LandingFile) -> str:
    contract = [(c.name, str(c.dtype), c.free_text) for c in extract.columns]
    dialect = None if file.is_parquet else file.dialect.model_dump()
    text = json.dumps([PARSER_VERSION, file.name, file.state.size, file.state.mtime_ns, contract, dialect])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def parse_cached(extract: Extract, file: LandingFile, cache_dir: Path) -> CachedParse:
    """Parse `file`, or reuse the stored result when nothing changed."""
    key = _key(extract, file)
    source_name = file.name
    rows_path = cache_dir / f"{key}.parquet"
    rejected_path = cache_dir / "rejected" / f"{key}.parquet"
    counts_path = cache_dir / "counts" / f"{key}.json"
    if rows_path.exists() and rejected_path.exists() and counts_path.exists():
        counts = json.loads(counts_path.read_text())
        rejected = pl.read_parquet(rejected_path)
        return CachedParse(source_name, rows_path, rejected, counts["read"], counts["parsed"], hit=True)
    parsed = parse_file(extract, file.path, source_name, file.dialect, file.state)
    for folder in (rows_path.parent, rejected_path.parent, counts_path.parent):
        folder.mkdir(parents=True, exist_ok=True)
    parsed.rows.write_parquet(rows_path)
    parsed.rejected.write_parquet(rejected_path)
    counts_path.write_text(json.dumps({"read": parsed.rows_read, "parsed": len(parsed.rows)}))
    return CachedParse(source_name, rows_path, parsed.rejected, parsed.rows_read, len(parsed.rows), hit=False)


def prune(cache_dir: Path, keep: list[CachedParse]) -> None:
    """Remove stored parses of files that are no longer in the landing directory."""
    wanted = {c.rows_path.stem for c in keep}
    own = (*cache_dir.glob("*.parquet"), *cache_dir.glob("rejected/*.parquet"), *cache_dir.glob("counts/*.json"))
    for stored in own:
        if stored.stem not in wanted:
            stored.unlink(missing_ok=True)
