"""Run bench/baseline.sql on a landing directory and compare it with the job.

    python -m bench.baseline --landing DIR --format parquet --as-of 2026-11-28 [--out result.parquet]

The benchmark starts this as a fresh process (a fresh DuckDB in memory, default
threads) and times it from outside; it prints the query time as JSON. The
landing views read the files with globs and the contract's types (CSV with
an explicit dialect and column types, as docs/extracts.md defines them; rows
DuckDB cannot read are skipped, which never happens on clean data).
"""

from __future__ import annotations

import argparse
import json
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
}

#: Landing file globs of the extracts, without the suffix.
GLOBS = {
    "invoice_lines": "erp/invoice_lines/*",
    "erp_customers": "erp/customers",
    "crm_accounts": "crm/accounts",
    "fx_rates": "erp/fx_rates",
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


def compare(baseline: pl.DataFrame, warehouse: Path, sample: int = 10) -> dict[str, object]:
    """Customers whose revenue_t12m (beyond one cent) or abc_class differ
    between the baseline and the published marts.customer_segments; customers
    outside the pipeline's ranking (class N) are not expected in the baseline."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        ours = con.sql(
            "SELECT customer_id, revenue_t12m, abc_class FROM marts.customer_segments WHERE abc_class <> 'N'"
        ).pl()
    joined = ours.join(
        baseline.select("customer_id", "revenue_t12m", "abc_class"),
        on="customer_id",
        how="full",
        suffix="_baseline",
        coalesce=True,
    )
    diff = (pl.col("revenue_t12m").cast(pl.Float64) - pl.col("revenue_t12m_baseline").cast(pl.Float64)).abs()
    only_ours = joined.filter(pl.col("revenue_t12m_baseline").is_null())
    only_baseline = joined.filter(pl.col("revenue_t12m").is_null())
    both = joined.filter(pl.col("revenue_t12m").is_not_null() & pl.col("revenue_t12m_baseline").is_not_null())
    cents = both.filter((diff > 0) & (diff <= 0.0101))
    revenue = both.filter(diff > 0.0101)
    abc = both.filter(pl.col("abc_class") != pl.col("abc_class_baseline"))
    return {
        "customers_job": ours.height,
        "customers_baseline": baseline.height,
        "only_in_job": only_ours.height,
        "only_in_baseline": only_baseline.height,
        "revenue_mismatches": revenue.height,
        "revenue_rounding_differences": cents.height,
        "abc_mismatches": abc.height,
        "max_revenue_difference": float(both.select(diff.max()).item() or 0.0),
        "sample": pl.concat([only_ours, only_baseline, revenue, abc], how="vertical_relaxed")
        .head(sample)
        .with_columns(pl.col(pl.Decimal).cast(pl.String))
        .to_dicts(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline", description=__doc__)
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--format", dest="fmt", choices=("csv", "parquet"), required=True)
    parser.add_argument("--as-of", type=date.fromisoformat, required=True)
    parser.add_argument("--out", type=Path, help="write the result as Parquet (for the comparison)")
    args = parser.parse_args(argv)
    result, seconds = run_baseline(args.landing, args.fmt, args.as_of)
    if args.out:
        result.write_parquet(args.out)
    print(json.dumps({"query_seconds": seconds, "customers": result.height}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
