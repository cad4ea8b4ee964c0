"""Touch every invoice line once: read every column, store it once.

    python -m bench.floor --landing DIR --format parquet --out FILE.duckdb

A second reference next to bench/baseline.sql. The baseline reads four of
the ten columns of the invoice lines and lets DuckDB skip the row groups
outside the window; a job that validates every column of every row and keeps
the accepted ones cannot do less than read them all and write them once.
This does only that, in one DuckDB statement (CREATE TABLE AS SELECT * from
the landing files into a new DuckDB file, then CHECKPOINT), in a fresh
process the benchmark times from outside. It prints the statement's time as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb

from bench.baseline import landing_view


def run_floor(landing: Path, fmt: str, out: Path) -> tuple[int, float]:
    """Rows stored and the seconds it took."""
    out.unlink(missing_ok=True)
    started = time.perf_counter()
    with duckdb.connect(str(out)) as con:
        con.execute(landing_view("invoice_lines", landing, fmt))
        con.execute("CREATE TABLE invoice_lines AS SELECT * FROM landing_invoice_lines")
        con.execute("CHECKPOINT")
        rows = con.execute("SELECT count(*) FROM invoice_lines").fetchall()[0][0]
    return rows, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--format", dest="fmt", choices=("csv", "parquet"), required=True)
    parser.add_argument("--out", type=Path, required=True, help="the DuckDB file to write (replaced)")
    args = parser.parse_args(argv)
    rows, seconds = run_floor(args.landing, args.fmt, args.out)
    print(json.dumps({"query_seconds": seconds, "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
