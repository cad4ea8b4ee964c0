"""Publishing the warehouse BI tools read: build a new file, swap it in.

DuckDB allows one read-write process or many read-only ones per file, so the
nightly run never writes to the file a dashboard holds open. It builds the
complete new warehouse in a temporary file next to the published one (one
transaction, CHECKPOINT, close, fsync), then `os.replace`s it onto the
published path and fsyncs the directory (docs/decisions.md §3: the swap takes
under a millisecond; a reader already connected keeps a consistent old
version, new connections see the complete new one). A run killed at any
point leaves the previous file untouched; its temporary file is removed by
the next run, and a failed publish removes its own. The published file is
never opened, not even read-only, so a BI client holding it (even
read-write) cannot stop the publish: the run log and what the last publish
holds are kept in the working database. When a large table did not change
since the last publish (same version in meta.table_versions), the new file
starts as a byte copy of the published one and only the other tables are
refilled, which makes a rerun on unchanged extracts cheap. A staging table
whose landing files changed only in part (meta.staged_files: a version per
file) is carried over too, and only the rows of the changed files are
deleted and inserted again: a night where the current month's file grew
writes that month's lines, not every line.
docs/publishing.md describes the limits.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from kam_pipeline.ingest.contract.extracts import SOURCE_FILE
from kam_pipeline.sql_literals import literal
from kam_pipeline.table_spec import SchemaMismatchError, mismatches
from kam_pipeline.warehouse import database, schema
from kam_pipeline.warehouse.run_control import deferred_interrupts

BUILDING_SUFFIX = ".building"
#: Working-database table (not published): the file the last publish swapped in,
#: by identity, and the table versions it holds.
LAST_PUBLISH = "meta.last_publish"
STAGED_FILES = "meta.staged_files"
#: What the snapshots of a history table are told apart by.
AS_OF = "as_of_date"


class DiskFullError(OSError):
    """The new warehouse does not fit on the disk of the published file."""


@dataclass(frozen=True)
class RunRecord:
    """The run being published: becomes its row of `meta.runs`."""

    run_id: str
    as_of: date
    started_at: datetime
    finished_at: datetime
    reporting_currency: str  # segmentation.reporting_currency: what the published amounts are in


@dataclass(frozen=True)
class PublishReport:
    path: Path
    tables: dict[str, int]  # qualified table name -> rows
    missing: list[str]  # declared tables the working database did not have (published empty)
    run_row: dict[str, object]  # this run's meta.runs row, for the working database's run log
    kept: list[str]  # tables carried over unchanged from the previous file
    refreshed: dict[str, int]  # tables carried over with the rows of this many landing files or dates replaced


def _building_path(target: Path, run_id: str) -> Path:
    return target.with_name(f".{target.name}.{run_id}{BUILDING_SUFFIX}")


def remove_stale_builds(target: Path, work_db: Path | None = None) -> list[Path]:
    """Delete temporary files left by killed or failed runs (and their WAL files).

    A run's file still here was never swapped in (the swap is a rename), so
    what that run recorded in the working database just before its swap is
    not true: its SUCCESS row becomes FAILURE and its record of the published
    file goes."""
    stale = sorted(target.parent.glob(f".{target.name}.*{BUILDING_SUFFIX}*"))
    prefix = f".{target.name}."
    runs = [p.name[len(prefix) : -len(BUILDING_SUFFIX)] for p in stale if p.name.endswith(BUILDING_SUFFIX)]
    if runs and work_db is not None and work_db.exists():
        with database.connect(work_db) as con:
            for table, change in (
                ("meta.runs", "UPDATE meta.runs SET status = 'FAILURE'"),
                (LAST_PUBLISH, "DELETE FROM meta.last_publish"),
            ):
                if database.table_exists(con, table):
                    con.execute(f"{change} WHERE run_id IN (SELECT unnest(?))", [runs])
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


def _in(source: str | None, table: str) -> str:
    """`table` of the attached database `source` (None: the connection's own)."""
    return f"{source}.{table}" if source else table


def _versions(con: duckdb.DuckDBPyConnection, source: str | None) -> dict[str, tuple[str, int]]:
    """Table -> (version, row count) recorded in `source`'s meta.table_versions."""
    if not database.table_exists(con, database.VERSIONS, source):
        return {}
    rows = con.execute(f"SELECT table_name, version, row_count FROM {_in(source, database.VERSIONS)}").fetchall()
    return {table: (version, count) for table, version, count in rows}


def _schema_digest() -> str:
    """The sql/ declarations a file is built from, as one comparable string."""
    return hashlib.sha256(json.dumps(sorted(schema.declared_schema())).encode()).hexdigest()


def _identity(path: Path) -> tuple[int, int, int]:
    """Inode, size and modification time: the same file, unchanged since, without opening it.
    `os.replace` keeps all three, so the building file's identity is the published file's."""
    stat = path.stat()
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _last_publish(con: duckdb.DuckDBPyConnection, source: str | None) -> dict[str, object] | None:
    if not database.table_exists(con, LAST_PUBLISH, source):
        return None
    rows = con.sql(f"SELECT * FROM {_in(source, LAST_PUBLISH)}").pl()
    return rows.row(0, named=True) if len(rows) else None


@dataclass(frozen=True)
class Refresh:
    """A table carried over with the previous file whose rows of some parts
    changed: those rows are deleted and inserted again. The parts are the
    landing files of a staging table (`_source_file`) or the as-of dates of a
    history table (`as_of_date`)."""

    column: str  # what the parts are told apart by
    delete: tuple[object, ...]  # parts whose published rows go
    insert: tuple[object, ...]  # parts whose rows come from the working database
    expected: int  # rows of the working table, which the refreshed one must have


@dataclass(frozen=True)
class CarryOver:
    """What the byte copy of the previous file gives the new one."""

    kept: frozenset[str] = frozenset()  # tables that hold the same rows
    refresh: dict[str, Refresh] = field(default_factory=dict)  # tables refreshed file by file or date by date

    @property
    def tables(self) -> frozenset[str]:
        return self.kept | frozenset(self.refresh)


def _staged_files(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, dict[str, str]]:
    """Staging table -> {landing file: version} recorded in `source`'s meta.staged_files."""
    if not database.table_exists(con, STAGED_FILES, source):
        return {}
    found: dict[str, dict[str, str]] = {}
    for table, name, version in con.execute(
        f"SELECT table_name, source_file, version FROM {_in(source, STAGED_FILES)}"
    ).fetchall():
        found.setdefault(table, {})[name] = version
    return found


def _snapshots(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, dict[object, tuple[str, int]]]:
    """History table -> {as-of date: (writing run, rows)} recorded in `source`'s meta.snapshot_versions."""
    if not database.table_exists(con, database.SNAPSHOTS, source):
        return {}
    found: dict[str, dict[object, tuple[str, int]]] = {}
    for table, as_of, run, rows in con.execute(
        f"SELECT table_name, as_of_date, written_by_run, row_count FROM {_in(source, database.SNAPSHOTS)}"
    ).fetchall():
        found.setdefault(table, {})[as_of] = (run, rows)
    return found


def reusable_tables(work_db: Path, target: Path) -> frozenset[str]:
    """Tables worth carrying over from the published file, judged from the
    working database's record of the last publish (the published file itself
    is never opened: a BI client may hold it): the file is still the one that
    publish wrote (same inode, size and modification time) and was built from
    the same sql/ declarations, and the table either has the same version and
    row count in the working database as in that publish, or is made of
    landing files (meta.staged_files) or of snapshots by as-of date
    (meta.snapshot_versions), so only the rows of the files or dates that
    changed need to be replaced. The byte copy is checked again before use
    (`_carried_over`)."""
    if not target.exists() or not work_db.exists():
        return frozenset()
    with duckdb.connect() as con:
        con.execute(f"ATTACH {literal(work_db)} AS work (READ_ONLY)")
        last = _last_publish(con, "work")
        work = _versions(con, "work")
        by_part = set(_staged_files(con, "work")) | set(_snapshots(con, "work"))
    if last is None or (last["file_ino"], last["file_size"], last["file_mtime_ns"]) != _identity(target):
        return frozenset()
    if last["schema_digest"] != _schema_digest():
        return frozenset()
    published = {table: tuple(value) for table, value in json.loads(last["table_versions"]).items()}
    same = {t for t, v in work.items() if published.get(t) == v}
    return frozenset(t for t in same | by_part if t in schema.declared_tables())


def _refresh(column: str, copied: dict[Any, object], work: dict[Any, object], expected: int) -> Refresh:
    return Refresh(
        column=column,
        delete=tuple(sorted(part for part, v in copied.items() if work.get(part) != v)),
        insert=tuple(sorted(part for part, v in work.items() if copied.get(part) != v)),
        expected=expected,
    )


def _carried_over(copy: Path, work_db: Path, candidates: frozenset[str]) -> CarryOver:
    """Of `candidates`, the tables the byte copy of the published file really
    holds at the working database's version and row count (kept), and the
    staging tables it holds complete at its own version, with the landing
    files whose rows differ, and the history tables it holds complete, with
    the as-of dates whose snapshots differ (refreshed), if the copy has
    exactly the declared schema; else none (a client wrote to the file, even
    while it was copied)."""
    try:
        with duckdb.connect() as con:
            con.execute(f"ATTACH {literal(work_db)} AS work (READ_ONLY)")
            con.execute(f"ATTACH {literal(copy)} AS copy (READ_ONLY)")
            columns, tables = schema.database_schema(con, "copy")
            if set(columns) | set(tables) != schema.declared_schema():
                return CarryOver()
            work, copied = _versions(con, "work"), _versions(con, "copy")
            complete = {t for t in candidates if t in copied and database.count_rows(con, f"copy.{t}") == copied[t][1]}
            kept = frozenset(t for t in complete if copied[t] == work.get(t))
            work_files, copied_files = _staged_files(con, "work"), _staged_files(con, "copy")
            refresh = {
                t: _refresh(SOURCE_FILE, copied_files[t], work_files[t], work[t][1])
                for t in sorted(complete - kept)
                if t in work_files and t in copied_files and t in work
            }
            work_dates, copied_dates = _snapshots(con, "work"), _snapshots(con, "copy")
            for t in sorted(candidates & work_dates.keys() & copied_dates.keys()):
                held = sum(rows for _, rows in copied_dates[t].values())
                if database.count_rows(con, f"copy.{t}") == held:
                    refresh[t] = _refresh(AS_OF, copied_dates[t], work_dates[t], database.count_rows(con, f"work.{t}"))
            return CarryOver(kept, refresh)
    except duckdb.Error:  # a torn copy: build afresh
        return CarryOver()


def _listed(parts: tuple[object, ...]) -> str:
    return ", ".join(f"DATE {literal(p.isoformat())}" if isinstance(p, date) else literal(str(p)) for p in parts)


def _refresh_rows(con: duckdb.DuckDBPyConnection, table: str, refresh: Refresh) -> None:
    """Replace the rows of the changed parts of `table` (carried over with the
    previous file) with the working database's; if the result does not have
    the working table's row count, fill the table afresh."""
    names = ", ".join(c.name for c in schema.declared_tables()[table])
    # Constant lists, not a join: a working staging table is a union of one
    # branch per file read in place, and only a constant filter lets DuckDB
    # drop the other files' branches instead of reading every line (10 s at 100 M).
    if refresh.delete:
        con.execute(f"DELETE FROM {table} WHERE {refresh.column} IN ({_listed(refresh.delete)})")
    if refresh.insert:
        con.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM work.{table} "
            f"WHERE {refresh.column} IN ({_listed(refresh.insert)})"
        )
    if database.count_rows(con, table) != refresh.expected:
        con.execute(f"DELETE FROM {table}")
        con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM work.{table}")


def _empty_all_but(con: duckdb.DuckDBPyConnection, kept: frozenset[str]) -> None:
    """In a copy of the previous file: empty every declared table except
    `kept`, and drop the views (they are created again from sql/)."""
    for table in schema.declared_tables():
        if table not in kept:
            con.execute(f"DELETE FROM {table}")
    for view, kind in database.relations(con).items():
        if kind == "view":
            con.execute(f"DROP VIEW {view}")


def _record_run(con: duckdb.DuckDBPyConnection, run: RunRecord, counts: dict[str, int]) -> dict[str, object]:
    """Carry the working database's run log over (the source of truth: every
    publish records its run there, `_commit`) and add this run's row."""
    if database.table_exists(con, "meta.runs", "work"):
        # By name: a run log kept by an older version lacks the newer columns (null there).
        con.execute("INSERT INTO meta.runs BY NAME SELECT * FROM work.meta.runs WHERE run_id <> ?", [run.run_id])
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
        "reporting_currency": run.reporting_currency,
    }
    con.execute(f"INSERT INTO meta.runs ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))
    return row


def _build(
    work_db: Path, target: Path, building: Path, run: RunRecord, memory_limit: str | None
) -> tuple[dict[str, int], list[str], dict[str, object], CarryOver]:
    """Write the complete new warehouse into `building`: a byte copy of the
    published file when large tables can be carried over (whole, or refreshed
    file by file), else empty."""
    candidates, carry = reusable_tables(work_db, target), CarryOver()
    if candidates:
        shutil.copyfile(target, building)  # a plain read: no DuckDB lock on the published file
        carry = _carried_over(building, work_db, candidates)
        if not carry.tables:
            building.unlink()
    con = duckdb.connect(str(building), config={"memory_limit": memory_limit} if memory_limit else {})
    try:
        con.execute(f"ATTACH {literal(work_db)} AS work (READ_ONLY)")
        con.execute("BEGIN TRANSACTION")
        if carry.tables:
            _empty_all_but(con, carry.tables)
            for table, refresh in carry.refresh.items():
                _refresh_rows(con, table, refresh)
        else:
            schema.create_tables(con)
        counts, missing = _copy_declared_tables(con, carry.tables)
        run_row = _record_run(con, run, counts)
        schema.create_views(con)
        con.execute("COMMIT")
        con.execute("DETACH work")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    fsync(building)
    return counts, missing, run_row, carry


def _commit(work_db: Path, building: Path, target: Path, run_row: dict[str, object]) -> None:
    """Record the run in the working database, then swap. A run killed between
    the two leaves its `.building` file, which tells the next run
    (`remove_stale_builds`) that it did not publish."""
    ino, size, mtime_ns = _identity(building)
    with database.connect(work_db) as con:
        versions = {t: list(v) for t, v in _versions(con, None).items()}
        last = pl.DataFrame(
            [
                {
                    "run_id": run_row["run_id"],
                    "file_ino": ino,
                    "file_size": size,
                    "file_mtime_ns": mtime_ns,
                    "schema_digest": _schema_digest(),
                    "table_versions": json.dumps(versions, sort_keys=True),
                }
            ]
        )
        database.replace_table(con, LAST_PUBLISH, last)
        database.replace_rows(con, "meta.runs", pl.DataFrame([run_row]), {"run_id": run_row["run_id"]})
    _swap(building, target)


def disk_space_message(directory: Path, needed: int, free: int) -> str:
    return (
        f"not enough disk space to publish in {directory}: about {_mb(needed)} needed "
        f"(the size of the last published warehouse or of the working database), {_mb(free)} available"
    )


def disk_space_problem(directory: Path, needed: int, free: int) -> str | None:
    """The one-line refusal when `free` bytes in `directory` clearly cannot
    hold the new file of about `needed` bytes, else None."""
    return disk_space_message(directory, needed, free) if free < needed else None


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def _space_needed(work_db: Path, target: Path) -> int:
    """About the size of the new file: the last published one, else the working database."""
    for path in (target, work_db):
        if path.exists():
            return path.stat().st_size
    return 0


def _is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno == errno.ENOSPC
    return isinstance(exc, duckdb.Error) and "No space left on device" in str(exc)


def publish(
    work_db: Path,
    target: Path,
    run: RunRecord,
    memory_limit: str | None = None,
    on_commit: Callable[[], None] | None = None,
) -> PublishReport:
    """Build the published warehouse from the working database in a new file
    (sql/ tables, data, the run log with this run's row, views), then record
    the run in the working database and atomically replace `target` with the
    new file. The commit (record, swap, `on_commit`) runs with SIGTERM and
    SIGINT deferred; whatever fails before it leaves `target` as it was and no
    temporary file. The published file is never opened."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(target, work_db)
    building = _building_path(target, run.run_id)
    needed, free = _space_needed(work_db, target), shutil.disk_usage(target.parent).free
    problem = disk_space_problem(target.parent, needed, free)
    if problem:
        raise DiskFullError(problem)
    try:
        try:
            counts, missing, run_row, carry = _build(work_db, target, building, run, memory_limit)
        except (OSError, duckdb.Error) as exc:
            if _is_disk_full(exc):
                raise DiskFullError(disk_space_message(target.parent, needed, free)) from exc
            raise
        with deferred_interrupts():
            _commit(work_db, building, target, run_row)
            if on_commit is not None:
                on_commit()
    finally:  # after a swap there is nothing left to remove
        remove_stale_builds(target, work_db)
    refreshed = {table: len(r.insert) for table, r in carry.refresh.items()}
    return PublishReport(
        path=target, tables=counts, missing=missing, run_row=run_row, kept=sorted(carry.kept), refreshed=refreshed
    )


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
