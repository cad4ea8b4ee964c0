"""Publishing the warehouse BI tools read: build a new file, swap it in.

DuckDB allows one read-write process or many read-only ones per file, so the
nightly run never writes to the file a dashboard holds open. It builds the
complete new warehouse in a temporary file next to the published one (one
transaction, CHECKPOINT, close, fsync), then `os.replace`s it onto the
published path and fsyncs the directory (docs/decisions.md §3: the swap takes
under a millisecond; a reader already connected keeps a consistent old
version, new connections see the complete new one). A run killed at any
point leaves the previous file untouched; its temporary file is removed by
the next run. When a large table did not change since the previous file
(same version in meta.table_versions), the new file starts as a copy of the
previous one and only the other tables are refilled, which makes a rerun on
unchanged extracts cheap. docs/publishing.md describes the limits.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from kam_pipeline.sql_literals import literal
from kam_pipeline.table_spec import SchemaMismatchError, mismatches
from kam_pipeline.warehouse import database, schema

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
    kept: list[str]  # tables carried over unchanged from the previous file


def _building_path(target: Path, run_id: str) -> Path:
    return target.with_name(f".{target.name}.{run_id}{BUILDING_SUFFIX}")


def remove_stale_builds(target: Path) -> list[Path]:
    """Delete temporary files left by killed runs (and their WAL files)."""
    stale = sorted(target.parent.glob(f".{target.name}.*{BUILDING_SUFFIX}*"))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def fsync(path: Path) -> None:
    """Flush a file or directory to disk (what makes the swap survive a power loss)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_declared_tables(
    con: duckdb.DuckDBPyConnection, kept: frozenset[str] = frozenset()
) -> tuple[dict[str, int], list[str]]:
    """Fill every table declared in sql/ from the working database, column by
    column, so a missing column or an incompatible type fails the publish.
    Tables in `kept` already hold the same rows (carried over with the
    previous file) and are only counted."""
    available = database.relations(con, "work")
    counts, missing = {}, []
    for table, columns in schema.declared_tables().items():
        if table == "meta.runs":
            continue
        if table in kept:
            counts[table] = database.count_rows(con, table)
            continue
        if table not in available:
            missing.append(table)
            continue
        _check_types(con, table, columns)
        names = ", ".join(c.name for c in columns)
        con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM work.{table}")
        counts[table] = database.count_rows(con, table)
    return counts, missing


def _check_types(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[schema.DeclaredColumn, ...]) -> None:
    """Refuse to publish a working table whose columns or types differ from
    the declaration: the insert would otherwise cast silently."""
    schema_name, name = table.split(".")
    found = dict(
        con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 'work' "
            "AND schema_name = ? AND table_name = ? ORDER BY column_index",
            [schema_name, name],
        ).fetchall()
    )
    problems = mismatches({c.name: c.data_type for c in columns}, found)
    if problems:
        raise SchemaMismatchError(f"cannot publish {table}: {'; '.join(problems)} (sql/)")


def _versions(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, tuple[str, int]]:
    """Table -> (version, row count) recorded in the attached `source`'s meta.table_versions."""
    if not database.table_exists(con, database.VERSIONS, source):
        return {}
    rows = con.execute(f"SELECT table_name, version, row_count FROM {source}.{database.VERSIONS}").fetchall()
    return {table: (version, count) for table, version, count in rows}


def reusable_tables(work_db: Path, target: Path) -> frozenset[str]:
    """Tables of the published file that can be carried over to the next one
    as they are: the same version and row count in the working database
    (meta.table_versions), as many rows in the file, and the file built from
    the same sql/ declarations. Copying the file and keeping a large
    unchanged table (the invoice lines) costs a file copy instead of
    re-compressing every row."""
    if not target.exists():
        return frozenset()
    with duckdb.connect() as con:
        con.execute(f"ATTACH {literal(work_db)} AS work (READ_ONLY)")
        con.execute(f"ATTACH {literal(target)} AS previous (READ_ONLY)")
        columns, tables = schema.database_schema(con, "previous")
        if set(columns) | set(tables) != schema.declared_schema():
            return frozenset()
        work, previous = _versions(con, "work"), _versions(con, "previous")
        same = [t for t, v in work.items() if previous.get(t) == v and t in schema.declared_tables()]
        return frozenset(t for t in same if database.count_rows(con, f"previous.{t}") == work[t][1])


def _empty_all_but(con: duckdb.DuckDBPyConnection, kept: frozenset[str]) -> None:
    """In a copy of the previous file: empty every declared table except
    `kept`, and drop the views (they are created again from sql/)."""
    for table in schema.declared_tables():
        if table not in kept:
            con.execute(f"DELETE FROM {table}")
    for view, kind in database.relations(con).items():
        if kind == "view":
            con.execute(f"DROP VIEW {view}")


def _record_run(
    con: duckdb.DuckDBPyConnection, run: RunRecord, counts: dict[str, int], previous: Path
) -> dict[str, object]:
    """Carry the run log over and add this run's row.

    The log is the union of the working database's and the previously
    published file's, so a run killed after its swap but before it wrote its
    row to the working database still stays in the log."""
    sources = ["work.meta.runs"] if database.table_exists(con, "meta.runs", "work") else []
    if previous.exists():
        con.execute(f"ATTACH {literal(previous)} AS previous (READ_ONLY)")
        if database.table_exists(con, "meta.runs", "previous"):
            sources.append("previous.meta.runs")
    if sources:
        union = " UNION ALL BY NAME ".join(f"SELECT * FROM {source}" for source in sources)
        con.execute(
            "INSERT INTO meta.runs SELECT * EXCLUDE (_n) FROM "
            f"(SELECT *, row_number() OVER (PARTITION BY run_id) AS _n FROM ({union})) WHERE _n = 1 AND run_id <> ?",
            [run.run_id],
        )
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
    con.execute(f"INSERT INTO meta.runs ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))
    return row


def publish(work_db: Path, target: Path, run: RunRecord, memory_limit: str | None = None) -> PublishReport:
    """Build the published warehouse from the working database in a new file
    (sql/ tables, data, the run's meta.runs row, views), then atomically
    replace `target` with it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(target)
    building = _building_path(target, run.run_id)
    kept = reusable_tables(work_db, target)
    if kept:
        shutil.copyfile(target, building)
    con = duckdb.connect(str(building), config={"memory_limit": memory_limit} if memory_limit else {})
    try:
        con.execute(f"ATTACH {literal(work_db)} AS work (READ_ONLY)")
        con.execute("BEGIN TRANSACTION")
        if kept:
            _empty_all_but(con, kept)
        else:
            schema.create_tables(con)
        counts, missing = _copy_declared_tables(con, kept)
        run_row = _record_run(con, run, counts, target)
        schema.create_views(con)
        con.execute("COMMIT")
        con.execute("DETACH work")
        if previous_attached(con):
            con.execute("DETACH previous")
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        remove_stale_builds(target)
        raise
    con.close()
    fsync(building)
    _swap(building, target)
    return PublishReport(path=target, tables=counts, missing=missing, run_row=run_row, kept=sorted(kept))


def previous_attached(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = 'previous'").fetchone()[0])


def _swap(building: Path, target: Path) -> None:
    """Replace `target` atomically, keeping the old file as `.<name>.previous`
    (a hard link: no copy) for recovery after a power loss, its permissions
    for BI accounts, and no WAL that belonged to the old file."""
    previous = target.with_name(f".{target.name}.previous")
    if target.exists():
        shutil.copymode(target, building)
        previous.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # a file system without hard links keeps no previous file
            os.link(target, previous)
    os.replace(building, target)
    stale_wal = target.with_name(target.name + ".wal")
    if stale_wal.exists():
        # Left by someone who opened the old file read-write: it does not
        # match the new file and would make every new reader fail.
        stale_wal.replace(target.with_name(f".{target.name}.wal.orphaned"))
    if os.name != "nt":  # directories cannot be opened for fsync on Windows
        fsync(target.parent)
