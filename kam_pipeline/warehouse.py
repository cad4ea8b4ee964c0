"""The pipeline's working DuckDB database (never opened by BI tools).

Every asset writes its table here; the publish step copies the result into
the file BI tools read (kam_pipeline/publish.py), because DuckDB allows one
writer *or* many readers per file (../shared/FACTS.md). Writes replace a
whole table, or the rows of one key (an extract, an as-of date), inside one
transaction, so a rerun replaces exactly what it recomputes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import duckdb
import polars as pl

from kam_pipeline.settings import Settings

SCHEMAS = ("staging", "quality", "marts", "history", "meta")
VERSIONS = "meta.table_versions"


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


def replace_table(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Replace `table` with `frame` atomically."""
    con.register("_frame", frame)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _frame")
    finally:
        con.unregister("_frame")


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, key: dict[str, object]) -> None:
    """Replace the rows of `table` matching `key` (column = value) with
    `frame`, in one transaction; creates the table from `frame` if needed."""
    con.register("_frame", frame)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM _frame LIMIT 0")
        where = " AND ".join(f"{column} = ?" for column in key)
        con.execute(f"DELETE FROM {table} WHERE {where}", list(key.values()))
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _frame")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_frame")


def read_table(con: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame:
    return con.sql(f"SELECT * FROM {table}").pl()


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, name]
    ).fetchall()
    return bool(found[0][0])


def replace_from_parquet(
    con: duckdb.DuckDBPyConnection, table: str, parquet: list[Path], columns: list[str], excluded: pl.DataFrame
) -> int:
    """Replace `table` with the rows of `parquet` files that are not in
    `excluded` (source_file, source_row), streaming in DuckDB so that large
    extracts never pass through Python memory. Returns the rows written."""
    files = "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in parquet) + "]"
    con.register("_excluded", excluded.select("source_file", "source_row").unique())
    try:
        names = ", ".join(columns)
        con.execute(
            f"CREATE OR REPLACE TABLE {table} AS SELECT {names} FROM read_parquet({files}) AS p "
            "ANTI JOIN _excluded AS x ON x.source_file = p._source_file AND x.source_row = p._source_row"
        )
    finally:
        con.unregister("_excluded")
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def table_version(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """The version `table` was last written with (`replace_from_parquet_if_changed`)."""
    if not (table_exists(con, VERSIONS) and table_exists(con, table)):
        return None
    rows = con.execute(f"SELECT version FROM {VERSIONS} WHERE table_name = ?", [table]).fetchall()
    return rows[0][0] if rows else None


def replace_from_parquet_if_changed(
    con: duckdb.DuckDBPyConnection,
    table: str,
    version: str,
    run_id: str,
    parquet: list[Path],
    columns: list[str],
    excluded: pl.DataFrame,
) -> int:
    """`replace_from_parquet` unless `table` already holds `version` (a digest
    of everything its rows derive from); returns the table's rows either way.
    The old version is forgotten before the write and the new one recorded
    after it, so a run killed in between rewrites the table next time."""
    if table_version(con, table) != version:
        if table_exists(con, VERSIONS):
            con.execute(f"DELETE FROM {VERSIONS} WHERE table_name = ?", [table])
        replace_from_parquet(con, table, parquet, columns, excluded)
        row = pl.DataFrame({"table_name": [table], "version": [version], "written_by_run": [run_id]})
        replace_rows(con, VERSIONS, row, {"table_name": table})
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def open_work(settings: Settings) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
    """The run's working database with the settings' DuckDB memory limit."""
    return connect(settings.work_db, memory_limit=settings.performance.duckdb_memory_limit)
