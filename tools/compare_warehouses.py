"""Compare two published warehouse files table by table.

    python -m tools.compare_warehouses OLD.duckdb NEW.duckdb

Used to show that a change which should not change behaviour (a refactoring,
a speed-up) publishes the same data: every table of both files must have the
same columns, types and rows (as multisets). Columns that identify a run
rather than describe the data (run ids, timestamps, the version digests that
include the code) are left out. Views are compared through the tables they
read. Exit code 0 when identical, 1 otherwise, with one line per difference.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

#: Columns that differ between two runs on the same data by design.
RUN_COLUMNS = frozenset(
    {"run_id", "started_at", "finished_at", "written_by_run", "version", "validated_by_run", "parsed_by_run"}
)


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "SELECT c.schema_name || '.' || c.table_name, c.column_name, c.data_type FROM duckdb_columns() AS c "
        "JOIN duckdb_tables() AS t USING (database_name, schema_name, table_name) "
        "WHERE c.database_name = ? ORDER BY 1, c.column_index",
        [database],
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        tables.setdefault(table, []).append((column, data_type))
    return tables


def differences(old: Path, new: Path) -> list[str]:
    """One line per difference between the two files (empty: identical)."""
    found: list[str] = []
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{old}' AS old (READ_ONLY)")
        con.execute(f"ATTACH '{new}' AS new (READ_ONLY)")
        before, after = _tables(con, "old"), _tables(con, "new")
        for table in sorted(set(before) ^ set(after)):
            found.append(f"{table}: only in {'old' if table in before else 'new'}")
        for table in sorted(set(before) & set(after)):
            if before[table] != after[table]:
                found.append(f"{table}: columns differ: {before[table]} != {after[table]}")
                continue
            columns = ", ".join(f'"{c}"' for c, _ in before[table] if c not in RUN_COLUMNS)
            if not columns:
                continue
            counts = con.execute(
                f"SELECT (SELECT count(*) FROM (SELECT {columns} FROM old.{table} EXCEPT ALL "
                f"SELECT {columns} FROM new.{table})), (SELECT count(*) FROM (SELECT {columns} FROM new.{table} "
                f"EXCEPT ALL SELECT {columns} FROM old.{table}))"
            ).fetchone()
            if counts != (0, 0):
                found.append(f"{table}: {counts[0]} rows only in old, {counts[1]} rows only in new")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="compare_warehouses", description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    args = parser.parse_args(argv)
    found = differences(args.old, args.new)
    for line in found:
        print(line)
    print("identical" if not found else f"{len(found)} difference(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
