"""The pipeline's working DuckDB database (never opened by BI tools).

Every asset writes its table here; the publish step copies the result into
the file BI tools read (kam_pipeline/warehouse/publish.py), because DuckDB allows one
writer *or* many readers per file (docs/decisions.md §2). Writes replace a
whole table, or the rows of one key (an extract, an as-of date), inside one
transaction, so a rerun replaces exactly what it recomputes; a table too
large to hold at once is replaced and then appended to in parts by the same
step. The staging
tables are views over the parsed Parquet files (`stage_view`), so the
invoice lines are stored once, in the published file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from kam_pipeline.ingest.contract.extracts import REJECTED_FILE, REJECTED_ROW, SOURCE_FILE, SOURCE_ROW
from kam_pipeline.ingest.parse_cache import rows_sql
from kam_pipeline.settings import Settings
from kam_pipeline.sql_literals import literal
from kam_pipeline.table_spec import Table, duckdb_type
from kam_pipeline.warehouse.tables import SNAPSHOT_VERSIONS, UNRECORDED

SCHEMAS = ("staging", "quality", "marts", "history", "meta")
VERSIONS = "meta.table_versions"
SNAPSHOTS = SNAPSHOT_VERSIONS.name


@contextmanager
def connect(
    path: Path, *, read_only: bool = False, memory_limit: str | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the working database, creating it and its schemas on first use.
    `memory_limit` caps DuckDB's buffer memory (it spills to disk beyond)."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    config = {"memory_limit": memory_limit} if memory_limit else {}
    con = duckdb.connect(str(path), read_only=read_only, config=config)
    try:
        if not read_only:
            for schema in SCHEMAS:
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        yield con
    finally:
        con.close()


@contextmanager
def _registered(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, name: str = "_frame") -> Iterator[str]:
    """`frame` visible to SQL as `name` for the duration of the block."""
    con.register(name, frame)
    try:
        yield name
    finally:
        con.unregister(name)


def replace_table(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Replace `table` with `frame` atomically."""
    with _registered(con, frame) as rows:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {rows}")


def append_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Insert `frame`'s rows into the existing `table`, matching columns by name."""
    with _registered(con, frame) as rows:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {rows}")


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _replace_keyed(con: duckdb.DuckDBPyConnection, table: str, rows: str, key: dict[str, object]) -> None:
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM {rows} LIMIT 0")
    have = {row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()}
    for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM {rows}").fetchall():
        if name not in have:
            con.execute(f'ALTER TABLE {table} ADD COLUMN "{name}" {kind}')
    where = " AND ".join(f"{column} = ?" for column in key)
    con.execute(f"DELETE FROM {table} WHERE {where}", list(key.values()))
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {rows}")


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, key: dict[str, object]) -> None:
    """Replace the rows of `table` matching `key` (column = value) with
    `frame`, in one transaction; creates the table from `frame` if needed and
    adds the columns a newer version declares (null in earlier snapshots), so
    that history kept by an older version goes on."""
    with _registered(con, frame) as rows, _transaction(con):
        _replace_keyed(con, table, rows, key)


def replace_snapshot(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, as_of: date, run_id: str) -> None:
    """Replace history `table`'s snapshot of `as_of` with `frame` (replace_rows)
    and record, in the same transaction, which run wrote it and how many rows
    it has (meta.snapshot_versions): the publish then carries the other dates
    over from the previous file instead of copying every night's snapshot
    again. Dates kept before versions were recorded get one, UNRECORDED."""
    key = {"table_name": table, "as_of_date": as_of}
    version = SNAPSHOT_VERSIONS.conform(pl.DataFrame([{**key, "written_by_run": run_id, "row_count": frame.height}]))
    with _registered(con, frame) as rows, _registered(con, version, "_version") as row, _transaction(con):
        _replace_keyed(con, table, rows, {"as_of_date": as_of})
        _replace_keyed(con, SNAPSHOTS, row, key)
        recorded = con.execute(f"SELECT sum(row_count) FROM {SNAPSHOTS} WHERE table_name = ?", [table]).fetchone()
        if recorded[0] != count_rows(con, table):
            con.execute(
                f"INSERT INTO {SNAPSHOTS} SELECT ?, as_of_date, ?, count(*) FROM {table} WHERE as_of_date NOT IN "
                f"(SELECT as_of_date FROM {SNAPSHOTS} WHERE table_name = ?) GROUP BY as_of_date",
                [table, UNRECORDED, table],
            )


def _select_list(columns: Sequence[str] | None) -> str:
    return "*" if columns is None else ", ".join(f'"{c}"' for c in columns)


def read_table(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str] | None = None, where: str | None = None
) -> pl.DataFrame:
    """`table`, or only its `columns`, or only the rows matching the SQL
    condition `where`: at a million customers a full read of
    marts.customer_segments costs 0.6 s, a read of ten of its columns 0.1 s."""
    condition = f" WHERE {where}" if where else ""
    return con.sql(f"SELECT {_select_list(columns)} FROM {table}{condition}").pl()


def scan_table(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str] | None = None) -> pl.LazyFrame:
    """`table` (or only its `columns`) as a lazy frame, read whole from `con`
    when collected. Not DuckDB's lazy Polars source: its first use imports
    pandas (0.4 s of every run); a step that needs few columns names them."""
    schema = con.sql(f"SELECT {_select_list(columns)} FROM {table} LIMIT 0").pl().schema
    return pl.defer(lambda: read_table(con, table, columns), schema=schema)


def count_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def relations(con: duckdb.DuckDBPyConnection, database: str | None = None) -> dict[str, str]:
    """`schema.name` -> "table" or "view" of every relation of `database`
    (default: the connection's own): the one way to ask what exists."""
    rows = con.execute(
        "SELECT schema_name || '.' || table_name, 'table' FROM duckdb_tables() "
        "WHERE database_name = coalesce(?, current_database()) UNION ALL "
        "SELECT schema_name || '.' || view_name, 'view' FROM duckdb_views() "
        "WHERE NOT internal AND database_name = coalesce(?, current_database())",
        [database, database],
    ).fetchall()
    return dict(rows)


def table_exists(con: duckdb.DuckDBPyConnection, table: str, database: str | None = None) -> bool:
    """Whether `table` (a table or a view) exists in `database` (default: the connection's own)."""
    return table in relations(con, database)


def latest_snapshot_before(
    con: duckdb.DuckDBPyConnection, table: str, as_of: object, columns: Sequence[str] | None = None
) -> pl.DataFrame:
    """The rows of `table` (keyed by as_of_date) of its latest as-of date before `as_of` (only `columns`)."""
    return con.sql(
        f"SELECT {_select_list(columns)} FROM {table} "
        f"WHERE as_of_date = (SELECT max(as_of_date) FROM {table} WHERE as_of_date < $as_of)",
        params={"as_of": as_of},
    ).pl()


def _recorded(con: duckdb.DuckDBPyConnection, table: str) -> tuple[str, int] | None:
    if not table_exists(con, VERSIONS):
        return None
    rows = con.execute(f"SELECT version, row_count FROM {VERSIONS} WHERE table_name = ?", [table]).fetchall()
    return rows[0] if rows else None


def stage_view(
    con: duckdb.DuckDBPyConnection,
    spec: Table,
    version: str,
    run_id: str,
    parquet: list[Path],
    extract: str,
) -> int:
    """Make `table` the accepted rows of `extract`: a view over its parsed
    Parquet files minus its rows in quality.rejected_rows (write those first),
    the SQL form of `staging.accepted_rows` for DuckDB readers (the publish
    step); the reconciliation check counts it against the rows read.

    The rows stay in the Parquet files, so a large extract is stored once, in
    the published file, and not also in the working database. `version` (a
    digest of everything the rows derive from) and the row count are recorded
    in meta.table_versions; the rows are counted only when the version
    changes. An optional extract without files is an empty view of the
    declared columns and types (`spec`). Returns the row count."""
    table = spec.name
    if relations(con).get(table) == "table":  # a working database written before staging became views
        con.execute(f"DROP TABLE {table}")
    if not parquet:
        typed_nulls = ", ".join(f"CAST(NULL AS {duckdb_type(c.dtype)}) AS {c.name}" for c in spec.columns)
        con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT {typed_nulls} WHERE false")
    else:
        con.execute(
            f"CREATE OR REPLACE VIEW {table} AS SELECT {', '.join(spec.column_names)} "
            f"FROM {rows_sql(parquet, [SOURCE_FILE, SOURCE_ROW, *spec.column_names])} AS p "
            f"ANTI JOIN (SELECT {REJECTED_FILE}, {REJECTED_ROW} FROM quality.rejected_rows WHERE extract = "
            f"{literal(extract)}) AS x ON x.{REJECTED_FILE} = p.{SOURCE_FILE} AND x.{REJECTED_ROW} = p.{SOURCE_ROW}"
        )
    recorded = _recorded(con, table)
    if recorded and recorded[0] == version:
        return recorded[1]
    rows = count_rows(con, table)
    row = pl.DataFrame({"table_name": [table], "version": [version], "written_by_run": [run_id], "row_count": [rows]})
    replace_rows(con, VERSIONS, row, {"table_name": table})
    return rows


def open_work(settings: Settings) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
    """The run's working database with the settings' DuckDB memory limit."""
    return connect(settings.work_db, memory_limit=settings.performance.duckdb_memory_limit)
