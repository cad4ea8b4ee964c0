"""marts.customer_segments: one row per customer with every segmentation
figure and label (methodology §S1–§S11)."""

from __future__ import annotations

from datetime import date

import polars as pl

from kam_pipeline.segmentation.amounts import AMOUNT
from kam_pipeline.segmentation.customer_unit import account_customers, customer_profiles
from kam_pipeline.segmentation.growth import growth_pct, trend
from kam_pipeline.segmentation.opportunities import customer_opportunities
from kam_pipeline.segmentation.pareto import pareto_abc, segment_class
from kam_pipeline.segmentation.potential import (
    headroom,
    potential_class,
    potential_driver,
    potential_value,
    share_of_wallet,
    wallet_below_revenue,
)
from kam_pipeline.segmentation.revenue import customer_revenue, margin_coverage, margin_pct
from kam_pipeline.segmentation.tables import CUSTOMER_SEGMENTS
from kam_pipeline.segmentation.threat import threat_level, threat_reasons
from kam_pipeline.segmentation.tiers import at_risk, tier, tier_reason
from kam_pipeline.segmentation.windows import reporting_windows
from kam_pipeline.settings import SegmentationSettings

#: Pareto views: output column → (measure, partition, pareto_abc column) (§S4–§S6).
_PARETO_VIEWS: dict[str, tuple[str, str | None, str]] = {
    "revenue_share": ("revenue_t12m", None, "share"),
    "cumulative_share": ("revenue_t12m", None, "cumulative_share"),
    "abc_class": ("revenue_t12m", None, "abc_class"),
    "margin_abc_class": ("margin_t12m", None, "abc_class"),
    "margin_share": ("margin_t12m", None, "share"),
    "region_abc_class": ("revenue_t12m", "region", "abc_class"),
    "country_abc_class": ("revenue_t12m", "country_code", "abc_class"),
    "portfolio_abc_class": ("revenue_t12m", "owner_id", "abc_class"),
    "portfolio_rank": ("revenue_t12m", "owner_id", "rank"),
}

#: Amounts of customers without invoice lines or opportunities.
_ZERO_WHEN_ABSENT = (
    "revenue_t12m",
    "revenue_prior",
    "margin_t12m",
    "margin_prior",
    "costed_revenue_t12m",
    "pipeline_weighted",
    "lost_deals_amount",
)


def _with_pareto_views(customers: pl.DataFrame, settings: SegmentationSettings) -> pl.DataFrame:
    """Join every Pareto view, computing each (measure, partition) ranking once.

    A ranking sorts its input, so it gets only the columns it ranks by, and
    the views are joined with each other before one join to `customers`:
    sorting and joining every column of a million customers for each view
    cost seconds."""
    views: dict[tuple[str, str | None], list[pl.Expr]] = {}
    for output, (measure, partition, column) in _PARETO_VIEWS.items():
        views.setdefault((measure, partition), []).append(pl.col(column).alias(output))
    rankings = customers.select("customer_id")
    for (measure, partition), outputs in views.items():
        ranked = customers.select("customer_id", measure, *([partition] if partition else []))
        ranking = pareto_abc(ranked, measure, settings, partition).select("customer_id", *outputs)
        rankings = rankings.join(ranking, on="customer_id", how="left", validate="1:1")
    return customers.join(rankings, on="customer_id", how="left", validate="1:1")


def build_customer_segments(
    lines: pl.LazyFrame,
    erp_customers: pl.DataFrame,
    accounts: pl.DataFrame,
    fx_rates: pl.DataFrame,
    opportunities: pl.DataFrame,
    settings: SegmentationSettings,
    as_of: date,
) -> pl.DataFrame:
    """Segment every CRM customer unit as of `as_of` (rows of marts.customer_segments).

    Customers without revenue are kept (class N, tier LAPSED or PROSPECT). The invoice
    lines are read once, lazily; everything after their aggregation works on
    one row per customer. Output sorted by customer_id.
    """
    windows = reporting_windows(as_of, settings)
    account_customer = account_customers(accounts, settings)
    revenue = customer_revenue(lines, erp_customers, account_customer, fx_rates, settings, windows)
    deals = customer_opportunities(opportunities, fx_rates, account_customer, settings, windows)
    customers = (
        customer_profiles(accounts, account_customer, settings)
        .join(revenue, on="customer_id", how="left")
        .join(deals, on="customer_id", how="left")
        .with_columns(
            *(pl.col(name).fill_null(pl.lit(0, AMOUNT)) for name in _ZERO_WHEN_ABSENT),
            pl.col("has_recent_invoice").fill_null(False),
        )
    )
    return (
        _with_pareto_views(customers, settings)
        .with_columns(
            margin_pct=margin_pct(),
            margin_coverage=margin_coverage(),
            growth_pct=growth_pct(),
            segment_class=segment_class(settings),
            wallet_below_revenue=wallet_below_revenue(),
        )
        .with_columns(trend=trend(settings), headroom=headroom(), share_of_wallet=share_of_wallet())
        .with_columns(potential_value=potential_value(settings), potential_driver=potential_driver(settings))
        .with_columns(
            potential_class=potential_class(settings),
            threat_reasons=threat_reasons(settings),
            threat_level=threat_level(settings),
        )
        .with_columns(tier=tier(), at_risk=at_risk(), as_of_date=pl.lit(as_of))
        .with_columns(tier_reason=tier_reason(settings))
        .pipe(CUSTOMER_SEGMENTS.conform)
        .sort("customer_id")
    )
