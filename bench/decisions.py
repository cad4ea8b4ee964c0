"""What explaining and stress-testing the KAM decisions costs, by number of customers.

Times `select_key_accounts` on synthetic snapshots of marts.customer_segments
with the robustness check off (`robustness_draws = 0`) and on (the default
200 variations), so the difference is what §K5.7 adds, and times the
stability computation on its own. Prints figures; asserts nothing.

    .venv/bin/python -m bench.decisions                       # 1k, 10k, 100k customers
    .venv/bin/python -m bench.decisions --customers 10000 --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from decimal import Decimal

import numpy as np
import polars as pl

from kam_pipeline.kam import select_key_accounts
from kam_pipeline.segmentation.tables import CUSTOMER_SEGMENTS
from kam_pipeline.settings import KamSettings

AS_OF = date(2026, 11, 30)


def snapshot(customers: int, seed: int = 1) -> pl.DataFrame:
    """A customer_segments snapshot with Pareto-like revenue: a fifth of the customers A-class."""
    rng = np.random.default_rng(seed)
    revenue = np.round(rng.pareto(1.2, customers) * 50_000 + 1_000, 2)
    margin = np.round(revenue * rng.uniform(0.05, 0.35, customers), 2)
    order = np.argsort(-revenue)
    abc = np.full(customers, "C", dtype=object)
    abc[order[: customers // 5]] = "A"
    abc[order[customers // 5 : customers // 2]] = "B"
    potential = np.round(revenue * rng.uniform(0, 2, customers), 2)
    money = pl.Decimal(18, 2)
    frame = pl.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in range(customers)],
            "customer_name": [f"Customer {i}" for i in range(customers)],
            "region": rng.choice(["North", "South", "East", "West"], customers),
            "owner_id": [f"AM{i % 50:02d}" for i in range(customers)],
            "revenue_t12m": pl.Series([Decimal(str(v)) for v in revenue], dtype=money),
            "revenue_prior": pl.Series([Decimal(str(v)) for v in np.round(revenue * 0.95, 2)], dtype=money),
            "margin_t12m": pl.Series([Decimal(str(v)) for v in margin], dtype=money),
            "margin_pct": margin / revenue,
            "margin_coverage": np.ones(customers),
            "growth_pct": rng.normal(0.03, 0.15, customers),
            "abc_class": abc,
            "segment_class": abc,
            "potential_value": pl.Series([Decimal(str(v)) for v in potential], dtype=money),
            "potential_class": rng.choice(["HIGH", "MEDIUM", "LOW"], customers),
            "competitive_position": rng.integers(1, 6, customers),
            "is_current_key_account": rng.random(customers) < 0.01,
            "tier": "CORE",
            "as_of_date": AS_OF,
        }
    )
    missing = [c for c in CUSTOMER_SEGMENTS.column_names if c not in frame.columns]
    frame = frame.with_columns(pl.lit(None).alias(c) for c in missing)
    return frame.with_columns(pl.col(c).cast(t) for c, t in CUSTOMER_SEGMENTS.schema.items()).select(
        CUSTOMER_SEGMENTS.column_names
    )


def managers(seats: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "owner_id": ["K1"],
            "name": ["KAM"],
            "role": ["KAM"],
            "region": ["North"],
            "capacity_hours": [seats * 300.0],
            "hourly_cost": [Decimal("90")],
        },
        schema_overrides={"hourly_cost": pl.Decimal(18, 4)},
    )


def timed(segments: pl.DataFrame, team: pl.DataFrame, settings: KamSettings, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        select_key_accounts(segments, team, settings)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'customers':>10} {'eligible':>9} {'seats':>6} {'no draws s':>11} {'200 draws s':>12} {'added s':>8}")
    for n in (int(float(x)) for x in args.customers.split(",")):
        segments = snapshot(n)
        seats = max(10, n // 200)
        team = managers(seats)
        without = timed(segments, team, KamSettings(robustness_draws=0), args.repeat)
        with_draws = timed(segments, team, KamSettings(), args.repeat)
        eligible = select_key_accounts(segments, team, KamSettings(robustness_draws=0))["eligible"].sum()
        print(f"{n:>10} {eligible:>9} {seats:>6} {without:>11.3f} {with_draws:>12.3f} {with_draws - without:>8.3f}")


if __name__ == "__main__":
    main()
