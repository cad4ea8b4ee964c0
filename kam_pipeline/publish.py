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

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from kam_pipeline.warehouse import SCHEMAS

BUILDING_SUFFIX = ".building"
SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


@dataclass(frozen=True)
class PublishReport:
    path: Path
    tables: dict[str, int]  # qualified table name -> rows


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


def _copy_tables(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'work' ORDER BY 1, 2"
    ).fetchall()
    counts = {}
    for schema, table in tables:
        if schema not in SCHEMAS:
            continue
        con.execute(f"CREATE TABLE {schema}.{table} AS SELECT * FROM work.{schema}.{table}")
        counts[f"{schema}.{table}"] = con.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0]
    return counts


def publish(work_db: Path, target: Path, run_id: str, sql_dir: Path = SQL_DIR) -> PublishReport:
    """Copy every table of the working database into a new file with the
    `sql/` views and comments applied, then atomically replace `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(target)
    building = _building_path(target, run_id)
    con = duckdb.connect(str(building))
    try:
        con.execute(f"ATTACH '{work_db}' AS work (READ_ONLY)")
        con.execute("BEGIN TRANSACTION")
        for schema in (*SCHEMAS, "bi"):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        counts = _copy_tables(con)
        for script in sorted(sql_dir.glob("*.sql")):
            con.execute(script.read_text(encoding="utf-8"))
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
    return PublishReport(path=target, tables=counts)
