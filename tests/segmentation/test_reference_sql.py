"""bench/baseline.sql, the plain-SQL reference of the method, against build_customer_segments
on hand-made cases where docs/methodology.md is sharp: exact cuts, ties, half cents, window
boundaries, wallets of mixed source, percent ranks outside the universe."""

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from bench.baseline import agrees, compare_frames, describe, run_baseline
from kam_pipeline.settings import SegmentationSettings

from .builder import AS_OF, IN_PRIOR, Extracts
from .test_worked_example import worked_example

#: Landing file of each builder frame (bench/baseline.py's GLOBS).
FILES = {
    "lines": "erp/invoice_lines/part-1.parquet",
    "erp_customers": "erp/customers.parquet",
    "accounts": "crm/accounts.parquet",
    "fx_rates": "erp/fx_rates.parquet",
    "opportunities": "crm/opportunities.parquet",
}


def edge_cases() -> Extracts:
    data = Extracts()
    # §S3/§S5 an exact cut, alone in their region, country and portfolio: before = 8 000.40 /
    # 10 000.50 is exactly 0.8 (its float quotient 0.7999999999999999), so CUT-B is B, not A.
    for name, net in (("CUT-A", 8_000.40), ("CUT-B", 2_000.10)):
        data.account(name, region="CUT", country="AT", owner="AM9").sale(name, net)
    # §S4 equal revenue ordered by id; §S8 equal potential values share their rank.
    data.account("TIE-1", employees=10).sale("TIE-1", 500)
    data.account("TIE-2", employees=10).sale("TIE-2", 500)
    # §S3 a customer amount of half a cent rounds to even: 0.05 USD x 0.90 = 0.045 -> 0.04,
    # 0.15 x 0.90 = 0.135 -> 0.14 (cost 0.05 x 0.90 = 0.045, margin 0.09).
    data.rate("USD", "2025-06", 0.90).rate("GBP", "2024-12", 0.85).rate("GBP", "2025-05", 0.80)
    data.account("HALF-1").sale("HALF-1", 0.05, currency="USD")
    data.account("HALF-2").sale("HALF-2", 0.15, currency="USD", cost=0.05)
    # §S3 a line's amount x rate is exact before the sum: 0.0001 CHF x 0.99999999 = 0.000099999999,
    # so 0.0149 + 0.000099999999 = 0.014999999999 -> 0.01 (0.02 if the product were rounded to 8 decimals).
    data.rate("CHF", "2025-06", 0.99999999)
    data.account("EXACT").sale("EXACT", 0.0149).sale("EXACT", 0.0001, currency="CHF")
    # §S7/§S9 growth exactly +10 % (GROWING), -15 % (DECLINING), -30 % (HIGH).
    for name, current in (("G10", 110), ("D15", 85), ("D30", 70)):
        data.account(name, position=3).sale(name, current).sale(name, 100, IN_PRIOR)
    # §S9 inactive: last invoice exactly D - 90 days is inactive, D - 89 days is not.
    data.account("INACT", position=5).sale("INACT", 1_000, date(2025, 4, 1))
    data.account("ACT", position=5).sale("ACT", 1_000, date(2025, 4, 2))
    # §S9 lost deals exactly 25 % of revenue and exactly the minimum amount.
    data.account("LOST", position=5).sale("LOST", 100_000).opportunity("LOST", "LOST", 25_000, date(2025, 1, 31))
    # §S8 pipeline exactly 10 % of revenue is material; GBP has no rate for the as-of month, the
    # latest earlier month's (May, 0.80) applies: 12 500 x 0.80 x 0.5 = 5 000.
    data.account("PIPE").sale("PIPE", 50_000)
    data.opportunity("PIPE", "OPEN", 12_500, date(2025, 12, 31), probability=0.5, currency="GBP")
    # §S8 a group wallet of mixed sources (CRM top, benchmark subsidiary), 10 360.005 rounded once
    # to 10 360.00; zero employees is a wallet of 0, below any revenue.
    data.account("MIX", wallet=10_000.005).account("MIX-SUB", "MIX", employees=3, industry="Retail")
    data.sale("MIX-SUB", 2_000)
    data.account("ZERO", employees=0).sale("ZERO", 300)
    # §S2 key account since: the earliest among current key accounts only.
    data.account("KEY", key=True, since=date(2022, 5, 1)).account("KEY-OLD", "KEY", key=False, since=date(2019, 1, 1))
    data.account("KEY-NEW", "KEY", key=True, since=date(2024, 3, 1)).sale("KEY-NEW", 700)
    # §S3/§S6 revenue below zero (an uncosted credit note) with a positive margin; a credit note only.
    data.account("NEG").sale("NEG", 100, cost=40).sale("NEG", -200)
    data.account("CREDIT").sale("CREDIT", -50)
    # §S8 a lapsed customer with a wallet above every reference value (pr > 1: HIGH).
    data.account("OLD", wallet=10_000_000).sale("OLD", 1_000, IN_PRIOR)
    # §S8/§S9 window boundaries of opportunities (D = 2025-06-30): OPEN closing on D does not count,
    # closing on D + W does; LOST closing on D - W does not, the day after does (on a subsidiary).
    data.account("OPPS", position=4).account("OPPS-SUB", "OPPS").sale("OPPS", 1_000)
    data.opportunity("OPPS", "OPEN", 100, date(2025, 6, 30)).opportunity("OPPS", "OPEN", 200, date(2026, 6, 30))
    data.opportunity("OPPS", "LOST", 30_000, date(2024, 6, 30))
    data.opportunity("OPPS-SUB", "LOST", 25_000, date(2024, 7, 1))
    # §S3 a rate row for the reporting currency is ignored; §S2 no current key account: no since date.
    data.rate("EUR", "2025-06", 2.0)
    data.account("NOKEY", key=False, since=date(2020, 1, 1)).sale("NOKEY", 10)
    # §S1 as-of 2025-02-28: the trailing window starts after 2024-02-29 (end-of-month rule).
    data.account("LEAP").sale("LEAP", 10, date(2024, 2, 29)).sale("LEAP", 20, date(2024, 3, 1))
    return data


def one_reference_customer() -> Extracts:
    """§S8: a reference of one value (n - 1 = 0) gives pr 0, LOW, inside and outside the universe."""
    data = Extracts()
    data.account("ONLY", wallet=5_000).sale("ONLY", 1_000)
    data.account("GONE", wallet=9_000).sale("GONE", 1_000, IN_PRIOR)
    return data


def write_landing(data: Extracts, root: Path) -> Path:
    for name, frame in data.frames().items():
        path = root / FILES[name]
        path.parent.mkdir(parents=True, exist_ok=True)
        (frame.collect() if isinstance(frame, pl.LazyFrame) else frame).write_parquet(path)
    return root


@pytest.mark.parametrize(
    ("case", "as_of"),
    [
        ("worked_example", AS_OF),
        ("edge_cases", AS_OF),
        ("edge_cases", date(2025, 6, 27)),
        ("edge_cases", date(2025, 2, 28)),
        ("one_reference_customer", AS_OF),
    ],
)
def test_reference_sql_agrees_with_the_segmentation(tmp_path: Path, case: str, as_of: date) -> None:
    cases = {
        "worked_example": worked_example,
        "edge_cases": edge_cases,
        "one_reference_customer": one_reference_customer,
    }
    data = cases[case]()
    job = data.segments(SegmentationSettings(), as_of=as_of)  # the defaults, as baseline.sql
    reference, _ = run_baseline(write_landing(data, tmp_path / "landing"), "parquet", as_of)
    check = compare_frames(reference, job)
    assert agrees(check), describe(check)
    assert reference.width == job.width - 1  # every column but tier_reason
