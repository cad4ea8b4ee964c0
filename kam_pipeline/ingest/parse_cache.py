"""Parsed landing files, kept as Parquet until the file changes.

Parsing is the most expensive step for CSV extracts, and a nightly rerun
usually sees the same files again. Each file's parsed rows (contract types,
source position) and its parse rejections are stored under a key made of the
file's name, size and modification time, of the contract's column types and
of the file's CSV dialect, so a changed file, contract or dialect is parsed
again. The rules are
evaluated on every run: a cache hit saves parsing, never validation.

A Parquet landing file whose columns are exactly the contract's, with its
types, and whose every row parses to itself is not copied: the cache holds a
hard link to it (`read in place`), and `scan_rows` / `rows_sql` add the
source position when reading. The link keeps the version the run parsed when
the landing file is replaced (an export writes a new file and renames it);
a file rewritten in place is caught by `check_in_place` before the publish
reads it. Where links are not possible (another file system), the parsed
rows are written as for any other file.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from kam_pipeline.errors import ExtractError
from kam_pipeline.ingest import sample_shares
from kam_pipeline.ingest.contract import Extract
from kam_pipeline.ingest.contract.extracts import SOURCE_FILE, SOURCE_ROW
from kam_pipeline.ingest.parsing import LandingFile, ParsedFile, parse_file
from kam_pipeline.ingest.snapshot import FileState
from kam_pipeline.sql_literals import file_list, literal

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
    #: Quarantine rows of the rules checked file by file (`file_rules`), when
    #: this run parsed the file and checked its rows while they were in memory.
    checked: pl.DataFrame | None = None


def _key(extract: Extract, file: LandingFile) -> str:
    contract = [(c.name, str(c.dtype), c.free_text) for c in extract.columns]
    dialect = None if file.is_parquet else file.dialect.model_dump()
    text = json.dumps([PARSER_VERSION, file.name, file.state.size, file.state.mtime_ns, contract, dialect])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _counts_path(rows_path: Path) -> Path:
    return rows_path.parent / "counts" / f"{rows_path.stem}.json"


def parse_cached(
    extract: Extract,
    file: LandingFile,
    cache_dir: Path,
    sample_rows: int | None = None,
    files: int = 1,
    check: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
) -> CachedParse:
    """Parse `file`, or reuse the stored result when nothing changed. With
    `sample_rows` (the check sample's size) and the extract's number of
    `files`, a parse also keeps the rows the check sample can take from the
    file (`sample_shares.keep_base`), and with `check` it applies the rules
    checked file by file to the parsed rows (`CachedParse.checked`), so that
    neither reads the file again."""
    key = _key(extract, file)
    source_name = file.name
    rows_path = cache_dir / f"{key}.parquet"
    rejected_path = cache_dir / "rejected" / f"{key}.parquet"
    counts_path = _counts_path(rows_path)
    if rows_path.exists() and rejected_path.exists() and counts_path.exists():
        counts = json.loads(counts_path.read_text())
        rejected = pl.read_parquet(rejected_path)
        return CachedParse(source_name, rows_path, rejected, counts["read"], counts["parsed"], hit=True)
    parsed = parse_file(extract, file.path, source_name, file.dialect, file.state)
    for folder in (rows_path.parent, rejected_path.parent, counts_path.parent):
        folder.mkdir(parents=True, exist_ok=True)
    in_place = _link(extract, file, parsed, rows_path)
    if not in_place:
        parsed.rows.write_parquet(rows_path)
    parsed.rejected.write_parquet(rejected_path)
    rows = parsed.rows.select(_row_columns(extract)).with_columns(pl.col(SOURCE_ROW).cast(pl.Int64))  # as scan_rows
    if sample_rows is not None:
        sample_shares.keep_base(cache_dir, key, rows, sample_rows, files)
    checked = None if check is None else check(rows)
    counts = {"read": parsed.rows_read, "parsed": len(parsed.rows), "source": source_name, "in_place": in_place}
    if in_place:
        counts |= {"size": file.state.size, "mtime_ns": file.state.mtime_ns}
    counts_path.write_text(json.dumps(counts))
    return CachedParse(source_name, rows_path, parsed.rejected, parsed.rows_read, len(parsed.rows), False, checked)


def _link(extract: Extract, file: LandingFile, parsed: ParsedFile, rows_path: Path) -> bool:
    """Make `rows_path` a hard link to the landing file when it can be read in
    place: Parquet with exactly the contract's columns and types, and every
    row parsed to itself (`ParsedFile.unchanged`). The link must be the
    version that was parsed; a file replaced in between is written as usual."""
    if not (file.is_parquet and parsed.unchanged):
        return False
    if dict(pl.read_parquet_schema(file.path)) != {c.name: c.dtype for c in extract.columns}:
        return False
    rows_path.unlink(missing_ok=True)
    try:
        os.link(file.path, rows_path)
    except OSError:  # another file system, or one without hard links
        return False
    if FileState.of(rows_path) != file.state:
        rows_path.unlink()
        return False
    return True


def _in_place(rows_path: Path) -> dict[str, object] | None:
    """The stored counts of a file read in place, else None."""
    counts_path = _counts_path(rows_path)
    if not counts_path.exists():
        return None
    counts = json.loads(counts_path.read_text())
    return counts if counts.get("in_place") else None


def source_of(rows_path: Path) -> str:
    """The landing file whose parsed rows `rows_path` holds."""
    counts = json.loads(_counts_path(rows_path).read_text())
    if "source" in counts:
        return str(counts["source"])
    first = pl.scan_parquet(rows_path).select(SOURCE_FILE).head(1).collect()  # stored before the name was
    return str(first.item()) if len(first) else ""


def _row_columns(extract: Extract) -> list[str]:
    """The columns of a parsed row, in the order `scan_rows` gives them."""
    return [SOURCE_FILE, SOURCE_ROW, *extract.column_names]


def scan_rows(extract: Extract, paths: Sequence[Path], columns: Sequence[str] | None = None) -> pl.LazyFrame:
    """The parsed rows of `paths` (parse-cache files), each with its source
    file and row, whether stored with them or read in place; only `columns`
    of them when given (the source position included). Stored files are
    one scan and files read in place another (a concatenation of one scan per
    file made Polars rebuild a reference rule's key set for every file: 25 s
    instead of 1 s at 1.2 M keys and 36 files); a file read in place gets its
    name and row from its path and the scan's row index."""
    columns = list(columns) if columns is not None else _row_columns(extract)
    linked = {str(p): _in_place(p) for p in paths}
    stored = [p for p in paths if linked[str(p)] is None]
    scans = [pl.scan_parquet(stored).select(columns)] if stored else []
    in_place = {path: counts for path, counts in linked.items() if counts is not None}
    if in_place:
        starts, offset = {}, 0
        for path, counts in in_place.items():
            starts[path] = offset
            offset += int(counts["parsed"])
        path_column = pl.col("_path")
        scans.append(
            pl.scan_parquet(list(in_place), row_index_name="_row", include_file_paths="_path")
            .with_columns(
                path_column.replace_strict({p: str(c["source"]) for p, c in in_place.items()}).alias(SOURCE_FILE),
                (pl.col("_row").cast(pl.Int64) + 1 - path_column.replace_strict(starts, return_dtype=pl.Int64)).alias(
                    SOURCE_ROW
                ),
            )
            .select(columns)
        )
    return pl.concat(scans) if scans else pl.LazyFrame(schema={SOURCE_FILE: pl.String, SOURCE_ROW: pl.Int64})


def rows_sql(paths: Sequence[Path], columns: Sequence[str]) -> str:
    """A DuckDB relation of `columns` of the parsed rows of `paths`, as
    `scan_rows` gives them (`columns` may name the source position). Files
    read in place are one scan (a union of one scan per file would keep
    DuckDB from reading them in parallel) whose file names are joined to
    their landing files' names."""
    linked = {str(p): _in_place(p) for p in paths}
    stored = [p for p in paths if linked[str(p)] is None]
    parts = [f"SELECT {', '.join(columns)} FROM read_parquet({file_list(stored)})"] if stored else []
    in_place = {path: counts["source"] for path, counts in linked.items() if counts is not None}
    if in_place:
        names = ", ".join(f"({literal(path)}, {literal(str(source))})" for path, source in in_place.items())
        position = {SOURCE_FILE: f"m.source AS {SOURCE_FILE}", SOURCE_ROW: f"p.file_row_number + 1 AS {SOURCE_ROW}"}
        wanted = ", ".join(position.get(c, f"p.{c}") for c in columns)
        parts.append(
            f"SELECT {wanted} FROM read_parquet({file_list(in_place)}, filename = true, file_row_number = true) AS p "
            f"JOIN (VALUES {names}) AS m(path, source) ON p.filename = m.path"
        )
    return "(" + " UNION ALL ".join(parts) + ")"


def check_in_place(cache_dir: Path) -> None:
    """Raise ExtractError when a landing file read in place (under
    `cache_dir`, an extract's parse cache) was rewritten since it was parsed:
    its rows would no longer be the ones validated."""
    for counts_path in sorted(cache_dir.glob("counts/*.json")):
        counts = json.loads(counts_path.read_text())
        rows_path = counts_path.parent.parent / f"{counts_path.stem}.parquet"
        if not counts.get("in_place") or not rows_path.exists():
            continue
        state = FileState.of(rows_path)
        if (state.size, state.mtime_ns) != (counts["size"], counts["mtime_ns"]):
            raise ExtractError(
                str(counts["source"]),
                f"file changed while reading (size {counts['size']} -> {state.size} bytes)",
                "a landing file that is replaced, not rewritten, while a run uses it",
            )


def prune(cache_dir: Path, keep: list[CachedParse]) -> None:
    """Remove stored parses of files that are no longer in the landing
    directory, and their shares of the check sample."""
    wanted = {c.rows_path.stem for c in keep}
    own = (*cache_dir.glob("*.parquet"), *cache_dir.glob("rejected/*.parquet"), *cache_dir.glob("counts/*.json"))
    for stored in own:
        if stored.stem not in wanted:
            stored.unlink(missing_ok=True)
    sample_shares.prune(cache_dir, wanted)
