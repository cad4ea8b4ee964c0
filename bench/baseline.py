"""Run bench/baseline.sql on a landing directory and compare it with the job.

    python -m bench.baseline --landing DIR --format parquet --as-of 2026-11-28 [--out result.parquet]
        [--warehouse kam.duckdb]

baseline.sql is a reference implementation of the whole segmentation
(docs/methodology.md §S) in plain DuckDB SQL: every column of
marts.customer_segments but the free-text tier_reason. The benchmark starts
this as a fresh process (a fresh DuckDB in memory, default threads) and times
it from outside; it prints the query time as JSON. The landing views read the
files with globs and the contract's types (CSV with an explicit dialect and
column types, as docs/extracts.md defines them; rows DuckDB cannot read are
skipped, which never happens on clean data).

`compare` checks the result against a job's published marts.customer_segments
for the same as-of date, column by column: amounts, counts, ranks, classes,
dates and flags exactly, ratios within FLOAT_TOLERANCE. With --warehouse the
comparison is printed (stderr) and the exit status is 1 when anything differs;
bench/run.py and the tests use the same functions.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from kam_pipeline.sql_literals import literal

SQL = Path(__file__).with_name("baseline.sql")

#: Column types of the CSV extracts the baseline reads (docs/extracts.md).
CSV_COLUMNS = {
    "invoice_lines": {
        "invoice_id": "VARCHAR",
        "line_no": "BIGINT",
        "document_type": "VARCHAR",
        "invoice_date": "DATE",
        "erp_customer_id": "VARCHAR",
        "product_id": "VARCHAR",
        "quantity": "DECIMAL(18,4)",
        "net_amount": "DECIMAL(18,4)",
        "cost_amount": "DECIMAL(18,4)",
        "currency": "VARCHAR",
    },
    "erp_customers": {
        "erp_customer_id": "VARCHAR",
        "crm_account_id": "VARCHAR",
        "customer_name": "VARCHAR",
        "country_code": "VARCHAR",
    },
    "crm_accounts": {
        "account_id": "VARCHAR",
        "account_name": "VARCHAR",
        "parent_account_id": "VARCHAR",
        "industry": "VARCHAR",
        "country_code": "VARCHAR",
        "region": "VARCHAR",
        "owner_id": "VARCHAR",
        "employee_count": "BIGINT",
        "estimated_wallet": "DECIMAL(18,4)",
        "competitive_position": "BIGINT",
        "is_key_account": "BOOLEAN",
        "key_account_since": "DATE",
    },
    "fx_rates": {"currency": "VARCHAR", "month": "VARCHAR", "rate_to_reporting": "DECIMAL(18,8)"},
    "opportunities": {
        "opportunity_id": "VARCHAR",
        "account_id": "VARCHAR",
        "status": "VARCHAR",
        "amount": "DECIMAL(18,4)",
        "currency": "VARCHAR",
        "probability": "DOUBLE",
        "created_date": "DATE",
        "close_date": "DATE",
    },
}

#: Landing file globs of the extracts, without the suffix.
GLOBS = {
    "invoice_lines": "erp/invoice_lines/*",
    "erp_customers": "erp/customers",
    "crm_accounts": "crm/accounts",
    "fx_rates": "erp/fx_rates",
    "opportunities": "crm/opportunities",
}


def landing_view(name: str, landing: Path, fmt: str) -> str:
    """`CREATE VIEW landing_<name>` over the extract's files."""
    pattern = literal(f"{landing.resolve()}/{GLOBS[name]}.{fmt}")
    if fmt == "parquet":
        source = f"read_parquet({pattern})"
    else:
        columns = "{" + ", ".join(f"{literal(c)}: {literal(t)}" for c, t in CSV_COLUMNS[name].items()) + "}"
        source = (
            f"read_csv({pattern}, header = true, delim = ',', quote = '\"', escape = '\"', "
            f"auto_detect = false, columns = {columns}, ignore_errors = true)"
        )
    return f"CREATE VIEW landing_{name} AS SELECT * FROM {source}"


def run_baseline(landing: Path, fmt: str, as_of: date) -> tuple[pl.DataFrame, float]:
    """The baseline's result and the seconds its query took (views included)."""
    started = time.perf_counter()
    con = duckdb.connect()
    try:
        for name in GLOBS:
            con.execute(landing_view(name, landing, fmt))
        con.execute(f"SET VARIABLE as_of = DATE '{as_of.isoformat()}'")
        result = con.sql(SQL.read_text(encoding="utf-8")).pl()
    finally:
        con.close()
    return result, time.perf_counter() - started


#: Relative tolerance of DOUBLE columns (shares, ratios); every other column must be equal.
FLOAT_TOLERANCE = 1e-9


def read_segments(warehouse: Path, columns: list[str]) -> pl.DataFrame:
    """The job's published marts.customer_segments, only the given columns."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(f"SELECT {', '.join(columns)} FROM marts.customer_segments").pl()


def column_mismatch(job: pl.Expr, reference: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """True where a column differs: floats beyond FLOAT_TOLERANCE (relative), anything else
    (decimal amounts, counts, ranks, classes, dates, flags) unless equal; null equals null only."""
    if dtype.is_float():
        both = job.is_not_null() & reference.is_not_null()
        close = (job - reference).abs() <= FLOAT_TOLERANCE * pl.max_horizontal(job.abs(), reference.abs())
        return ~((job.is_null() & reference.is_null()) | (both & close).fill_null(False))
    return ~job.eq_missing(reference)


def compare(baseline: pl.DataFrame, warehouse: Path, sample: int = 3) -> dict[str, object]:
    """The baseline against the job's published marts.customer_segments (compare_frames)."""
    return compare_frames(baseline, read_segments(warehouse, baseline.columns), sample)


def compare_frames(baseline: pl.DataFrame, job: pl.DataFrame, sample: int = 3) -> dict[str, object]:
    """Every column of the baseline against the job's customer segments, customer by customer
    (the same as-of date is expected: as_of_date is one of the columns). Returns the customers
    found on one side only and, per column that differs, the number of customers and a few
    examples."""
    columns = baseline.columns
    job = job.select(columns)
    joined = job.with_columns(_in_job=True).join(
        baseline.with_columns(_in_baseline=True), on="customer_id", how="full", suffix="_baseline", coalesce=True
    )
    in_job, in_baseline = pl.col("_in_job").fill_null(False), pl.col("_in_baseline").fill_null(False)
    both = joined.filter(in_job & in_baseline)
    mismatches: dict[str, dict[str, object]] = {}
    for name in columns[1:]:
        dtype = job.schema[name]
        reference = pl.col(f"{name}_baseline")
        if baseline.schema[name] != dtype and not dtype.is_float():
            reference = reference.cast(dtype, strict=False)
        differ = both.filter(column_mismatch(pl.col(name), reference, dtype))
        if differ.height:
            examples = differ.select("customer_id", pl.col(name).alias("job"), reference.alias("baseline"))
            mismatches[name] = {
                "customers": differ.height,
                "examples": examples.head(sample).with_columns(pl.exclude("customer_id").cast(pl.String)).to_dicts(),
            }
    return {
        "customers_job": job.height,
        "customers_baseline": baseline.height,
        "only_in_job": joined.filter(~in_baseline)["customer_id"].head(sample).to_list(),
        "only_in_job_count": joined.filter(~in_baseline).height,
        "only_in_baseline": joined.filter(~in_job)["customer_id"].head(sample).to_list(),
        "only_in_baseline_count": joined.filter(~in_job).height,
        "columns_compared": len(columns) - 1,
        "mismatches": mismatches,
    }


def agrees(check: dict[str, object]) -> bool:
    """True when the comparison found no difference at all."""
    return not (check["mismatches"] or check["only_in_job_count"] or check["only_in_baseline_count"])


def describe(check: dict[str, object]) -> str:
    """The comparison in a few lines: counts, then each mismatching column with examples."""
    lines = [
        f"baseline check vs marts.customer_segments: {check['customers_job']} customers (job), "
        f"{check['customers_baseline']} (baseline), {check['columns_compared']} columns compared; "
        f"only in job {check['only_in_job_count']} {check['only_in_job']}, "
        f"only in baseline {check['only_in_baseline_count']} {check['only_in_baseline']}"
    ]
    mismatches: dict[str, dict[str, object]] = check["mismatches"]  # type: ignore[assignment]
    if not mismatches:
        lines.append("  every column agrees")
    for name, found in mismatches.items():
        lines.append(f"  {name}: {found['customers']} customers differ, e.g. {found['examples']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline", description=__doc__)
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--format", dest="fmt", choices=("csv", "parquet"), required=True)
    parser.add_argument("--as-of", type=date.fromisoformat, required=True)
    parser.add_argument("--out", type=Path, help="write the result as Parquet (for the comparison)")
    parser.add_argument("--warehouse", type=Path, help="compare with marts.customer_segments of this warehouse")
    args = parser.parse_args(argv)
    result, seconds = run_baseline(args.landing, args.fmt, args.as_of)
    if args.out:
        result.write_parquet(args.out)
    agreed = True
    if args.warehouse:
        check = compare(result, args.warehouse)
        agreed = agrees(check)
        print(describe(check), file=sys.stderr)
    print(json.dumps({"query_seconds": seconds, "customers": result.height}))
    return 0 if agreed else 1


if __name__ == "__main__":
    raise SystemExit(main())
