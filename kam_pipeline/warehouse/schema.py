"""The published warehouse's schema, declared in sql/ and read from there.

sql/*.sql is the contract with BI users: tables with their column types and
`COMMENT ON` text, then views. This module applies those files and reads the
declared columns back (with their comments) for the publish step, the
Dagster column metadata and the schema-stability test, so the SQL files stay
the single source.

View columns are documented without repeating the tables' text: a column
the view passes through under its own name takes the comment of that column
in the first table the view reads (`_inherit_view_comments`); only computed
or renamed columns carry a `COMMENT ON COLUMN` in sql/60_bi_views.sql. We
chose matching by name over generating the views from Python because the
views stay plain SQL a BI engineer can read, and over parsing each select
item because DuckDB already resolves the view: its columns and the tables it
reads are all we need. A rename that should keep the source's comment would
silently lose it, which is why the test of the bi schema fails on any column
without a comment. Every amount (DECIMAL) comment names the reporting
currency, added here once rather than in each comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from kam_pipeline.sql_literals import literal

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
VIEWS_SUFFIX = "_views.sql"


@dataclass(frozen=True)
class DeclaredColumn:
    name: str
    data_type: str
    comment: str


def table_scripts(sql_dir: Path = SQL_DIR) -> list[Path]:
    return sorted(p for p in sql_dir.glob("*.sql") if not p.name.endswith(VIEWS_SUFFIX))


def view_scripts(sql_dir: Path = SQL_DIR) -> list[Path]:
    return sorted(sql_dir.glob(f"*{VIEWS_SUFFIX}"))


def _inherit_history_comments(con: duckdb.DuckDBPyConnection) -> None:
    """History tables repeat a mart's columns: give them the mart's comments."""
    rows = con.execute(
        """
        SELECT h.table_name, h.column_name, m.comment
        FROM duckdb_columns() AS h
        JOIN duckdb_columns() AS m
          ON m.schema_name = 'marts' AND m.table_name = h.table_name AND m.column_name = h.column_name
        WHERE h.schema_name = 'history' AND h.comment IS NULL AND m.comment IS NOT NULL
          AND h.database_name = current_database() AND m.database_name = current_database()
        """
    ).fetchall()
    for table, column, comment in rows:
        con.execute(f"COMMENT ON COLUMN history.{table}.{column} IS {literal(comment)}")


def create_tables(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> None:
    for script in table_scripts(sql_dir):
        con.execute(script.read_text(encoding="utf-8"))
    _inherit_history_comments(con)


#: A relation a view reads, in DuckDB's rendering of the view (`FROM ((marts.x AS s LEFT JOIN ...`).
_READS = re.compile(r'\b(?:FROM|JOIN)\s+\(*\s*"?(\w+)"?\."?(\w+)"?', re.IGNORECASE)
AMOUNT_NOTE = "In the reporting currency (column reporting_currency)."


def view_sources(view_sql: str) -> list[str]:
    """The relations a view reads, tables first in FROM/JOIN order, then the
    views it looks up (such as bi.current_run for the currency): a view's own
    columns come from its tables."""
    found = list(dict.fromkeys(f"{schema}.{name}" for schema, name in _READS.findall(view_sql)))
    return sorted(found, key=lambda relation: relation.startswith("bi."))


def _inherit_view_comments(con: duckdb.DuckDBPyConnection) -> None:
    """Give every view column without a comment the comment of the same-named
    column of the first relation it reads, and name the currency in every
    amount's comment. Views go in creation order so that a view read by a later
    one is documented first."""
    comments = {
        (f"{schema}.{table}", column): (data_type, comment)
        for schema, table, column, data_type, comment in con.execute(
            "SELECT schema_name, table_name, column_name, data_type, comment FROM duckdb_columns() "
            "WHERE database_name = current_database()"
        ).fetchall()
    }
    views = con.execute(
        "SELECT schema_name || '.' || view_name, sql FROM duckdb_views() "
        "WHERE NOT internal AND database_name = current_database() ORDER BY view_oid"
    ).fetchall()
    for view, sql in views:
        sources = view_sources(sql)
        for (relation, column), (data_type, comment) in list(comments.items()):
            if relation != view:
                continue
            text = comment or next((comments[s, column][1] for s in sources if (s, column) in comments), None)
            if text and data_type.startswith("DECIMAL") and "reporting currency" not in text:
                text = f"{text} {AMOUNT_NOTE}"
            if text != comment:
                comments[view, column] = (data_type, text)
                con.execute(f"COMMENT ON COLUMN {view}.{column} IS {literal(text)}")


def create_views(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> None:
    for script in view_scripts(sql_dir):
        con.execute(script.read_text(encoding="utf-8"))
    _inherit_view_comments(con)


def database_schema(
    con: duckdb.DuckDBPyConnection, database: str
) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str]]]:
    """Columns (table, column, type, comment) in column order and table
    comments of the tables (not views) of `database`."""
    columns = con.execute(
        "SELECT c.schema_name || '.' || c.table_name, c.column_name, c.data_type, coalesce(c.comment, '') "
        "FROM duckdb_columns() AS c JOIN duckdb_tables() AS t USING (database_name, schema_name, table_name) "
        "WHERE c.database_name = ? ORDER BY c.schema_name, c.table_name, c.column_index",
        [database],
    ).fetchall()
    tables = con.execute(
        "SELECT schema_name || '.' || table_name, coalesce(comment, '') FROM duckdb_tables() WHERE database_name = ?",
        [database],
    ).fetchall()
    return columns, tables


@cache
def _declared() -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str]]]:
    """The schema of sql/, read from an in-memory database that ran the scripts once."""
    with duckdb.connect() as con:
        create_tables(con)
        return database_schema(con, "memory")


def declared_tables() -> dict[str, tuple[DeclaredColumn, ...]]:
    """`schema.table` -> its declared columns, in order."""
    tables: dict[str, list[DeclaredColumn]] = {}
    for table, column, data_type, comment in _declared()[0]:
        tables.setdefault(table, []).append(DeclaredColumn(column, data_type, comment))
    return {table: tuple(columns) for table, columns in tables.items()}


def table_comments() -> dict[str, str]:
    return dict(_declared()[1])


def declared_schema() -> set[tuple[str, ...]]:
    """Every declared (table, column, type, comment) and (table, comment): what
    a published file built from these declarations shows in duckdb_columns()
    and duckdb_tables()."""
    columns, tables = _declared()
    return set(columns) | set(tables)
