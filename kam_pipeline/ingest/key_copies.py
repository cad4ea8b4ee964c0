"""Unique keys across the files of an extract, recomputed from the files that changed.

Policy (`UniqueKey`): the first occurrence of a key, files in name order and
rows in file order, is accepted and every later copy is quarantined. Which
row is a later copy depends on every file, so the check stays exact over the
whole extract, but a night where one file changed does not group every key
again. Each run stores every occurrence of every repeated key (`Occurrences`)
with the files it was computed from. The next run splits the files into
unchanged ones (same name, same parse) and changed ones, and finds every
repeated key from three sources:

- keys repeated among the unchanged files: their occurrences are stored;
- keys of the changed files that also occur in an unchanged file: one semi-join
  of the changed files' keys against the unchanged files' key columns;
- keys repeated within the changed files.

Their occurrences, ranked by file and row, give the later copies: the same
rows as grouping every file again (tests/ingest/test_key_copies.py checks it
against that on random histories of files).

The first run (or a run without stored occurrences) finds the repeated keys
of every file by sorting 64-bit hashes of the keys in memory, or, beyond
`SORTED_KEYS_MAX_ROWS` rows, by DuckDB grouping them. DuckDB reads only the
key columns of the unchanged files and spills to disk beyond `memory_limit`;
a key with a null part is never a copy (SQL equality).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from kam_pipeline.ingest.contract import Extract
from kam_pipeline.ingest.contract.extracts import SOURCE_FILE, SOURCE_ROW
from kam_pipeline.ingest.contract.rules import UniqueKey
from kam_pipeline.ingest.parse_cache import rows_sql, scan_rows
from kam_pipeline.ingest.quarantine import empty_rejections, rule_rows

FOLDER = "keys"
STATE = "files.json"
#: Seed of the key hashes; both passes of a run use the same one.
HASH_SEED = 0x6B616D
#: Up to this many rows, a first grouping sorts their key hashes in memory
#: (8 bytes a row: 1.6 GB at most); beyond it DuckDB groups them, spilling to
#: disk beyond the memory limit.
SORTED_KEYS_MAX_ROWS = 200_000_000


@dataclass(frozen=True)
class ParsedFile:
    """A landing file's parsed rows: its name (what rows are ordered by) and
    its parse-cache file (whose name says which version of it was parsed)."""

    name: str
    path: Path


def _columns(extract: Extract, rule: UniqueKey) -> list[str]:
    """What a quarantine row of the rule needs, and the key."""
    return list(dict.fromkeys([SOURCE_FILE, SOURCE_ROW, *rule.columns, *extract.key, rule.column]))


def _all_occurrences(
    con: duckdb.DuckDBPyConnection, extract: Extract, files: Sequence[ParsedFile], rule: UniqueKey, columns: list[str]
) -> pl.DataFrame:
    """Every row of a key repeated across `files`: sorted in memory up to
    `SORTED_KEYS_MAX_ROWS` rows, else grouped by DuckDB, which spills to disk."""
    rows = pl.scan_parquet([f.path for f in files]).select(pl.len()).collect().item()
    if rows <= SORTED_KEYS_MAX_ROWS:
        return _sorted_occurrences(extract, files, rule, columns)
    return _grouped_occurrences(con, files, rule, ", ".join(columns))


def _sorted_occurrences(
    extract: Extract, files: Sequence[ParsedFile], rule: UniqueKey, columns: list[str]
) -> pl.DataFrame:
    """A 64-bit hash of each key is sorted, and equal neighbours are the
    hashes that repeat: at 100 M lines (0.8 GB of hashes) 5 s, where DuckDB's
    grouping took 13-19 s and 6 GB (its hash table holds every distinct key).
    The rows of repeated hashes are read again and their keys compared, so a
    hash collision costs time, never a wrong rejection."""
    keys = list(rule.columns)
    complete = pl.all_horizontal(pl.col(keys).is_not_null())  # SQL equality: a null part never matches
    hashed = pl.struct(keys).hash(HASH_SEED)
    rows = scan_rows(extract, [f.path for f in files], columns).filter(complete)
    hashes = rows.select(hashed).collect().to_series().sort(in_place=True)
    repeated = hashes.filter(hashes == hashes.shift(1)).unique()
    if repeated.is_empty():
        return rows.head(0).collect()
    candidates = rows.filter(hashed.is_in(repeated.implode())).collect()
    return candidates.filter(pl.len().over(keys) > 1)


def _grouped_occurrences(
    con: duckdb.DuckDBPyConnection, files: Sequence[ParsedFile], rule: UniqueKey, cols: str
) -> pl.DataFrame:
    """A 64-bit hash of the key is grouped first (half the time of grouping
    the keys); the keys themselves are compared only on rows whose hash
    repeats, so a hash collision costs time, never a wrong rejection."""
    keys, parquet = ", ".join(rule.columns), rows_sql([f.path for f in files], cols.split(", "))
    return con.sql(
        f"""
        WITH candidates AS (SELECT hash({keys}) AS _h FROM {parquet} GROUP BY _h HAVING count(*) > 1),
        rows AS (SELECT {cols} FROM {parquet} WHERE hash({keys}) IN (SELECT _h FROM candidates)),
        repeated AS (SELECT {keys} FROM rows GROUP BY ALL HAVING count(*) > 1)
        SELECT * FROM rows SEMI JOIN repeated USING ({keys})
        """
    ).pl()


def _occurrences_since(
    con: duckdb.DuckDBPyConnection,
    unchanged: Sequence[ParsedFile],
    changed: Sequence[ParsedFile],
    known: pl.DataFrame,
    rule: UniqueKey,
    cols: str,
) -> pl.DataFrame:
    """Every row of a key repeated across `unchanged` + `changed`, given
    `known`: the stored occurrences that lie in the unchanged files."""
    keys, first = ", ".join(rule.columns), rule.columns[0]
    new = rows_sql([f.path for f in changed], cols.split(", "))
    old = rows_sql([f.path for f in unchanged], cols.split(", "))
    # Only rows whose first key column lies within the changed files' range can
    # match: a necessary condition that lets the Parquet reader skip the row
    # groups of other months (invoice numbers grow with time) without reading them.
    ((low, high),) = con.execute(f"SELECT min({first}), max({first}) FROM {new}").fetchall()
    con.register("known", known)
    return con.sql(
        f"""
        WITH new_rows AS (SELECT {cols} FROM {new}),
        old_hits AS (
            SELECT {cols} FROM {old} SEMI JOIN (SELECT {keys} FROM new_rows) USING ({keys})
            WHERE {first} BETWEEN $low AND $high
        ),
        pool AS ((SELECT {cols} FROM known UNION SELECT * FROM old_hits) UNION ALL SELECT * FROM new_rows),
        repeated AS (SELECT {keys} FROM pool GROUP BY ALL HAVING count(*) > 1)
        SELECT * FROM pool SEMI JOIN repeated USING ({keys})
        """,
        params={"low": low, "high": high},
    ).pl()


def _later(occurrences: pl.DataFrame, rule: UniqueKey) -> pl.DataFrame:
    """The occurrences after the first of their key (files by name, rows in file order)."""
    ordered = occurrences.sort(SOURCE_FILE, SOURCE_ROW)
    return ordered.filter(pl.int_range(pl.len()).over(list(rule.columns)) > 0)


def _stored_files(folder: Path) -> dict[str, str] | None:
    path = folder / STATE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def later_copies(
    extract: Extract, files: Sequence[ParsedFile], cache_dir: Path, memory_limit: str | None = None
) -> pl.DataFrame:
    """Quarantine rows for every copy of a key after its first occurrence
    across `files`, from the files that changed since the occurrences stored
    in `cache_dir` (module docstring), or from every file the first time;
    then store this run's occurrences."""
    rules = [r for r in extract.all_rules() if isinstance(r, UniqueKey)]
    if not rules or not files:
        return empty_rejections()
    folder = cache_dir / FOLDER
    stored = _stored_files(folder) or {}
    unchanged = [f for f in files if stored.get(f.name) == f.path.stem]
    changed = [f for f in files if stored.get(f.name) != f.path.stem]
    (folder / STATE).unlink(missing_ok=True)  # until the new occurrences are all written
    folder.mkdir(parents=True, exist_ok=True)
    found = [empty_rejections()]
    with duckdb.connect(config={"memory_limit": memory_limit} if memory_limit else {}) as con:
        for rule in rules:
            columns = _columns(extract, rule)
            cols = ", ".join(columns)
            path = folder / f"{rule.name}.parquet"
            if not (unchanged and path.exists()):
                occurrences = _all_occurrences(con, extract, files, rule, columns)
            else:
                known = pl.read_parquet(path).filter(pl.col(SOURCE_FILE).is_in([f.name for f in unchanged]))
                if changed:
                    occurrences = _occurrences_since(con, unchanged, changed, known, rule, cols)
                else:  # files were only removed: a key may no longer repeat
                    occurrences = known.filter(pl.len().over(list(rule.columns)) > 1)
            occurrences.write_parquet(path)
            found.append(rule_rows(_later(occurrences, rule), extract, rule))
    state = folder / f"{STATE}.partial"
    state.write_text(json.dumps({f.name: f.path.stem for f in files}), encoding="utf-8")
    state.replace(folder / STATE)
    return pl.concat(found)
