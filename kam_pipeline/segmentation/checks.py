"""Checks on what BI reads from the segmentation: pure functions over the
published frames, each returning (passed, evidence) so that the Dagster
layer only reports them (assets/segmentation.py, docs/validation.md).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl

from kam_pipeline.segmentation.amounts import line_amounts
from kam_pipeline.segmentation.pareto import in_universe
from kam_pipeline.segmentation.windows import reporting_windows
from kam_pipeline.settings import SegmentationSettings

#: Evidence of a check: plain values the Dagster layer turns into metadata.
Evidence = dict[str, object]
#: Float shares of many customers add up to 1 only up to rounding.
SHARE_TOLERANCE = 1e-9
#: Each published amount is rounded once to cents (§S3), so a sum of n of them
#: may differ from the exact total by up to half a cent each.
HALF_CENT = Decimal("0.005")


def one_row_per(frame: pl.DataFrame, keys: list[str], sample_size: int = 10) -> tuple[bool, Evidence]:
    """No two rows share `keys`: a duplicate would double every sum a BI tool makes."""
    duplicates = frame.group_by(keys).agg(copies=pl.len()).filter(pl.col("copies") > 1).sort(keys)
    return duplicates.is_empty(), {
        "rows": len(frame),
        "duplicated_keys": len(duplicates),
        "sample": [{k: str(v) for k, v in row.items()} for row in duplicates.head(sample_size).iter_rows(named=True)],
    }


def revenue_shares_sum_to_one(segments: pl.DataFrame) -> tuple[bool, Evidence]:
    """`revenue_share` over the universe adds up to 1 when the universe has
    revenue (§S4); outside the universe it is null. Passes trivially without revenue."""
    universe = segments.filter(in_universe())
    total = universe.get_column("revenue_t12m").sum()
    share_sum = float(universe.get_column("revenue_share").sum())
    outside = segments.filter(~in_universe() & pl.col("revenue_share").is_not_null())
    has_revenue = total is not None and total > 0
    passed = outside.is_empty() and (not has_revenue or abs(share_sum - 1.0) <= SHARE_TOLERANCE)
    return passed, {
        "universe_customers": len(universe),
        "universe_revenue": str(total or 0),
        "share_sum": share_sum,
        "tolerance": SHARE_TOLERANCE,
        "shares_outside_universe": len(outside),
    }


def window_revenue(lines: pl.LazyFrame, fx_rates: pl.DataFrame, settings: SegmentationSettings, as_of: date) -> Decimal:
    """Σ net of the accepted lines in the trailing window (D − W, D], converted
    to the reporting currency, exact (§S1, §S3): what the segments and the
    unmapped customers must add up to. `lines` are invoice lines or their
    daily totals."""
    windows = reporting_windows(as_of, settings)
    total = (
        line_amounts(lines.filter(windows.current("invoice_date")), fx_rates, settings.reporting_currency)
        .select(pl.col("net_amount_rc").sum())
        .collect(engine="streaming")
        .item()
    )
    return Decimal(total) if total is not None else Decimal(0)


def revenue_reconciles(segments: pl.DataFrame, unmapped: pl.DataFrame, expected: Decimal) -> tuple[bool, Evidence]:
    """Σ `revenue_t12m` of the segments + Σ `revenue_t12m` of the unmapped ERP
    customers = the window's accepted revenue (`window_revenue`), up to the
    rounding of each published amount to cents: revenue lost between staging
    and the marts (a mapping to a missing account, a dropped currency) shows here."""
    segmented = Decimal(segments.get_column("revenue_t12m").sum() or 0)
    outside = Decimal(unmapped.get_column("revenue_t12m").sum() or 0)
    difference = segmented + outside - expected
    tolerance = HALF_CENT * (len(segments) + len(unmapped))
    return abs(difference) <= tolerance, {
        "segments_revenue": str(segmented),
        "unmapped_revenue": str(outside),
        "accepted_lines_revenue": str(expected),
        "difference": str(difference),
        "rounding_tolerance": str(tolerance),
    }
