"""Publishing the warehouse BI tools read: build a new file, swap it in.

DuckDB allows one read-write process or many read-only ones per file, so the
nightly run never writes to the file a dashboard holds open. It builds the
complete new warehouse in a temporary file next to the published one (one
transaction, CHECKPOINT, close, fsync), then `os.replace`s it onto the
published path and fsyncs the directory (../shared/FACTS.md: the swap takes
under a millisecond; a reader already connected keeps a consistent old
version, new connections see the complete new one). A run killed at any
point leaves the previous file untouched; its temporary file is removed by
the next run. docs/publishing.md describes the limits.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from kam_pipeline import schema

BUILDING_SUFFIX = ".building"


@dataclass(frozen=True)
class RunRecord:
    """The run being published: becomes its row of `meta.runs`."""

    run_id: str
    as_of: date
    started_at: datetime
    finished_at: datetime


@dataclass(frozen=True)
class PublishReport:
    path: Path
    tables: dict[str, int]  # qualified table name -> rows
    missing: list[str]  # declared tables the working database did not have (published empty)
    run_row: dict[str, object]  # this run's meta.runs row, for the working database's run log


def _building_path(target: Path, run_id: str) -> Path:
    return target.with_name(f".{target.name}.{run_id}{BUILDING_SUFFIX}")


def remove_stale_builds(target: Path) -> list[Path]:
    """Delete temporary files left by killed runs (and their WAL files)."""
    stale = sorted(target.parent.glob(f".{target.name}.*{BUILDING_SUFFIX}*"))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _work_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE database_name = 'work'"
    ).fetchall()
    return {name for (name,) in rows}


def _copy_declared_tables(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, int], list[str]]:
    """Fill every table declared in sql/ from the working database, column by
    column, so a missing column or an incompatible type fails the publish."""
    available = _work_tables(con)
    counts, missing = {}, []
    for table, columns in schema.declared_tables().items():
        if table == "meta.runs":
            continue
        if table not in available:
            missing.append(table)
            continue
        names = ", ".join(c.name for c in columns)
        con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM work.{table}")
        counts[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return counts, missing


def _record_run(con: duckdb.DuckDBPyConnection, run: RunRecord, counts: dict[str, int]) -> dict[str, object]:
    """Carry the run log over and add this run's row."""
    if "meta.runs" in _work_tables(con):
        con.execute("INSERT INTO meta.runs SELECT * FROM work.meta.runs WHERE run_id <> ?", [run.run_id])
    rejected = con.execute(
        "SELECT count(*) FROM (SELECT DISTINCT extract, source_file, source_row FROM quality.rejected_rows "
        "WHERE run_id = ?)",
        [run.run_id],
    ).fetchone()[0]
    row = {
        "run_id": run.run_id,
        "as_of_date": run.as_of,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "status": "SUCCESS",
        "row_counts": json.dumps(counts, sort_keys=True),
        "rejected_rows": rejected,
    }
    con.execute("INSERT INTO meta.runs VALUES (?, ?, ?, ?, ?, ?, ?)", list(row.values()))
    return row


def publish(work_db: Path, target: Path, run: RunRecord) -> PublishReport:
    """Build the published warehouse from the working database in a new file
    (sql/ tables, data, the run's meta.runs row, views), then atomically
    replace `target` with it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(target)
    building = _building_path(target, run.run_id)
    con = duckdb.connect(str(building))
    try:
        con.execute(f"ATTACH '{work_db}' AS work (READ_ONLY)")
        con.execute("BEGIN TRANSACTION")
        schema.create_tables(con)
        counts, missing = _copy_declared_tables(con)
        run_row = _record_run(con, run, counts)
        schema.create_views(con)
        con.execute("COMMIT")
        con.execute("DETACH work")
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        remove_stale_builds(target)
        raise
    con.close()
    _fsync(building)
    os.replace(building, target)
    _fsync(target.parent)
    return PublishReport(path=target, tables=counts, missing=missing, run_row=run_row)
