"""Great Expectations' cost as the key sets of reference rules grow (issue 16).

Times `run_suite` for the crm_accounts, erp_customers and invoice_lines
extracts, and the one Data Docs build after them (`build_data_docs`), on a synthetic check sample of the default size
(`ValidationSettings.ge_max_rows` rows), with the accepted keys of the
referenced extracts (account managers, CRM accounts, ERP customers) at 10 k,
100 k and 1 M keys. Each size runs in its own process so that its peak RSS is
its own; each suite runs `--repeat` times and the fastest counts (the
machine is shared). The sample is the same for every size (0.1 % of its rows refer to
unknown keys), so only the key sets change between columns.

    .venv/bin/python -m bench.ge_keys              # every size
    .venv/bin/python -m bench.ge_keys --size 10000 # one size, as JSON
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from kam_pipeline.ingest.contract import EXTRACTS_BY_NAME
from kam_pipeline.ingest.contract.extracts import MONEY
from kam_pipeline.ingest.contract.rules import References, RuleContext
from kam_pipeline.ingest.expectations import build_data_docs, run_suite
from kam_pipeline.ingest.staging import rule_context
from kam_pipeline.ingest.validation import derived_columns
from kam_pipeline.settings import ValidationSettings

SIZES = (10_000, 100_000, 1_000_000)
TIMED = ("crm_accounts", "erp_customers", "invoice_lines")
AS_OF = date(2026, 11, 28)
REPORTING = "EUR"
FOREIGN = ("USD", "GBP", "CHF")
MONTHS = [f"{y}-{m:02d}" for y in (2025, 2026) for m in range(1, 13)]


def _ids(prefix: str, numbers: np.ndarray) -> pl.Series:
    return pl.Series(numbers).cast(pl.String).str.pad_start(7, "0").str.replace(r"^", prefix)


def _refs(prefix: str, rows: int, keys: int, rng: np.random.Generator) -> pl.Series:
    """Known keys, except one row in a thousand that names an unknown one."""
    known = _ids(prefix, rng.integers(0, keys, rows))
    unknown = _ids("X", np.arange(rows))
    return pl.select(pl.when(pl.int_range(rows) % 1000 == 999).then(unknown).otherwise(known)).to_series()


def _money(values: np.ndarray) -> pl.Series:
    return pl.Series(values.round(2)).cast(MONEY)


def _accounts(rows: int, keys: int, rng: np.random.Generator) -> pl.DataFrame:
    i = np.arange(rows)
    parent = _ids("A", (i * 7919) % np.maximum(np.minimum(i, keys), 1))
    return pl.DataFrame(
        {
            "account_id": _ids("A", i),
            "account_name": _ids("Account ", i),
            "parent_account_id": pl.select(pl.when(pl.Series(i % 10 == 1)).then(parent)).to_series(),
            "industry": "Manufacturing",
            "country_code": "DE",
            "region": "EMEA",
            "owner_id": _refs("M", rows, keys, rng),
            "employee_count": pl.Series(rng.integers(1, 10_000, rows)),
            "estimated_wallet": _money(rng.uniform(0, 1e6, rows)),
            "competitive_position": pl.Series(rng.integers(1, 6, rows)),
            "is_key_account": pl.Series(i % 50 == 0),
            "key_account_since": pl.Series([date(2024, 1, 1)] * rows),
        }
    )


def _customers(rows: int, keys: int, rng: np.random.Generator) -> pl.DataFrame:
    i = np.arange(rows)
    return pl.DataFrame(
        {
            "erp_customer_id": _ids("E", i),
            "crm_account_id": _refs("A", rows, keys, rng),
            "customer_name": _ids("Customer ", i),
            "country_code": "DE",
        }
    )


def _lines(rows: int, keys: int, rng: np.random.Generator) -> pl.DataFrame:
    i = np.arange(rows)
    credit = i % 20 == 0
    net = rng.uniform(1, 5000, rows) * np.where(credit, -1, 1)
    currency = np.where(i % 5 == 0, np.array(FOREIGN)[i % 3], REPORTING)
    return pl.DataFrame(
        {
            "invoice_id": _ids("I", i),
            "line_no": 1,
            "document_type": np.where(credit, "CREDIT_NOTE", "INVOICE"),
            "invoice_date": pl.select(
                pl.lit(date(2025, 1, 1)) + pl.duration(days=pl.lit(pl.Series(rng.integers(0, 600, rows))))
            ).to_series(),
            "erp_customer_id": _refs("E", rows, keys, rng),
            "product_id": _ids("P", i % 500),
            "quantity": _money(rng.uniform(1, 100, rows)),
            "net_amount": _money(net),
            "cost_amount": _money(np.abs(net) * 0.7),
            "currency": currency,
        }
    )


SAMPLES = {"crm_accounts": _accounts, "erp_customers": _customers, "invoice_lines": _lines}


def _accepted(keys: int) -> dict[str, pl.DataFrame]:
    """Accepted rows of the referenced extracts, as far as their keys go."""
    numbers = np.arange(keys)
    return {
        "account_managers": pl.DataFrame({"owner_id": _ids("M", numbers)}),
        "crm_accounts": pl.DataFrame({"account_id": _ids("A", numbers)}),
        "erp_customers": pl.DataFrame({"erp_customer_id": _ids("E", numbers)}),
        "fx_rates": pl.DataFrame(
            {"currency": [c for c in FOREIGN for _ in MONTHS], "month": [m for _ in FOREIGN for m in MONTHS]}
        ),
    }


def measure(keys: int, rows: int, repeat: int) -> dict[str, object]:
    """Seconds of `run_suite` (the fastest of `repeat` runs; and of the
    derived check columns) per extract for key sets of `keys` keys, and the
    process's peak RSS."""
    import great_expectations  # noqa: F401  (its import is not what is measured)

    accepted = _accepted(keys)
    seconds: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as docs:
        for name in TIMED:
            extract = EXTRACTS_BY_NAME[name]
            ctx = rule_context(extract, accepted, AS_OF, REPORTING)
            if any(isinstance(r, References) and r.target == name for r in extract.rules):
                own = accepted[name].select(extract.key[0])  # as stage_extract adds the extract's own keys
                ctx = RuleContext(ctx.as_of, ctx.reporting_currency, {**ctx.keys, name: own})
            rows_frame = SAMPLES[name](rows, keys, np.random.default_rng(0))
            started = time.perf_counter()
            frame = derived_columns(extract, rows_frame, ctx)
            derived = time.perf_counter() - started
            suite = float("inf")
            for attempt in range(repeat):  # the fastest of `repeat`: the machine is shared
                started = time.perf_counter()
                outcomes = run_suite(
                    extract, frame, ctx, docs_dir=Path(docs), run_name=f"{keys}_{attempt}", sample_failures=20
                )
                suite = min(suite, time.perf_counter() - started)
            failed = sorted(o.rule for o in outcomes if not o.success)
            seconds[name] = {"derived_columns": derived, "run_suite": suite, "failed_rules": failed}
        started = time.perf_counter()
        build_data_docs(Path(docs))
        docs_seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"keys": keys, "rows": rows, "seconds": seconds, "data_docs": docs_seconds, "peak_rss_mib": peak_mib}


def _table(results: list[dict]) -> str:
    head = (
        "| keys | "
        + " | ".join(f"{n} run_suite s" for n in TIMED)
        + " | total run_suite s | Data Docs once s | derived columns s | peak RSS MiB |"
    )
    lines = [head, "|" + " --- |" * (len(TIMED) + 5)]
    for r in results:
        per = [r["seconds"][n]["run_suite"] for n in TIMED]
        derived = sum(r["seconds"][n]["derived_columns"] for n in TIMED)
        cells = [
            f"{r['keys']:,}",
            *(f"{s:.2f}" for s in per),
            f"{sum(per):.2f}",
            f"{r['data_docs']:.2f}",
            f"{derived:.2f}",
            f"{r['peak_rss_mib']:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, help="one key-set size, measured in this process (prints JSON)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--rows", type=int, default=ValidationSettings().ge_max_rows, help="rows of each sample")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each suite; the fastest is reported")
    args = parser.parse_args(argv)
    if args.size is not None:
        print(json.dumps(measure(args.size, args.rows, args.repeat)))
        return 0
    results = []
    for size in args.sizes:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.ge_keys",
                "--size",
                str(size),
                "--rows",
                str(args.rows),
                "--repeat",
                str(args.repeat),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(run.stdout.strip().splitlines()[-1])
        results.append(result)
        print(json.dumps(result), file=sys.stderr)
    print(f"Great Expectations on a sample of {args.rows:,} rows per extract, fastest of {args.repeat} runs")
    print(_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
