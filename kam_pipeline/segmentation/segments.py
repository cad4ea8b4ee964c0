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


#: The settings only `classify_customers` reads: the ABC cuts and the basis
#: (§S4, §S6). `customer_figures` must not read them (a test guards it), so
#: segments that differ from others only in these fields are a
#: reclassification of the others (`reclassify`), not a new segmentation.
CLASSIFICATION_SETTINGS = frozenset({"abc_a_cut", "abc_b_cut", "basis"})


def _with_pareto_views(customers: pl.DataFrame, settings: SegmentationSettings) -> pl.DataFrame:
    """Join every Pareto view, computing each (measure, partition) ranking once.

    A ranking sorts its input, so it gets only the columns it ranks by, and
    the views are joined with each other before one join to `customers`:
    sorting and joining every column of a million customers for each view
    cost seconds. Views that `customers` already has (segments being
    reclassified) are replaced."""
    views: dict[tuple[str, str | None], list[pl.Expr]] = {}
    for output, (measure, partition, column) in _PARETO_VIEWS.items():
        views.setdefault((measure, partition), []).append(pl.col(column).alias(output))
    rankings = customers.select("customer_id")
    for (measure, partition), outputs in views.items():
        ranked = customers.select("customer_id", measure, *([partition] if partition else []))
        ranking = pareto_abc(ranked, measure, settings, partition).select("customer_id", *outputs)
        rankings = rankings.join(ranking, on="customer_id", how="left", validate="1:1")
    return customers.drop(*_PARETO_VIEWS, strict=False).join(rankings, on="customer_id", how="left", validate="1:1")


#: The columns of each staged extract the segmentation reads (its assets read only these).
SEGMENTATION_READS = {
    "erp_customers": ("erp_customer_id", "crm_account_id"),
    "accounts": (
        "account_id",
        "account_name",
        "parent_account_id",
        "industry",
        "country_code",
        "region",
        "owner_id",
        "employee_count",
        "estimated_wallet",
        "competitive_position",
        "is_key_account",
        "key_account_since",
    ),
    "fx_rates": ("currency", "month", "rate_to_reporting"),
    "opportunities": ("account_id", "status", "amount", "currency", "probability", "close_date"),
}


def customer_figures(
    lines: pl.LazyFrame,
    erp_customers: pl.DataFrame,
    accounts: pl.DataFrame,
    fx_rates: pl.DataFrame,
    opportunities: pl.DataFrame,
    settings: SegmentationSettings,
    as_of: date,
) -> pl.DataFrame:
    """Every customer's figures that do not depend on its ABC class: amounts,
    margin, growth and trend, potential and threat (§S1–§S3, §S7–§S9).

    The expensive part of the segmentation (the invoice lines are read once,
    lazily; everything after their aggregation works on one row per
    customer); it reads no field of CLASSIFICATION_SETTINGS.
    """
    windows = reporting_windows(as_of, settings)
    account_customer = account_customers(accounts, settings)
    revenue = customer_revenue(lines, erp_customers, account_customer, fx_rates, settings, windows)
    deals = customer_opportunities(opportunities, fx_rates, account_customer, settings, windows)
    return (
        customer_profiles(accounts, account_customer, settings)
        .join(revenue, on="customer_id", how="left")
        .join(deals, on="customer_id", how="left")
        .with_columns(
            *(pl.col(name).fill_null(pl.lit(0, AMOUNT)) for name in _ZERO_WHEN_ABSENT),
            pl.col("has_recent_invoice").fill_null(False),
        )
        .with_columns(
            margin_pct=margin_pct(),
            margin_coverage=margin_coverage(),
            growth_pct=growth_pct(),
            wallet_below_revenue=wallet_below_revenue(),
        )
        .with_columns(trend=trend(settings), headroom=headroom(), share_of_wallet=share_of_wallet())
        .with_columns(potential_value=potential_value(settings), potential_driver=potential_driver(settings))
        .with_columns(
            potential_class=potential_class(settings),
            threat_reasons=threat_reasons(settings),
            threat_level=threat_level(settings),
            as_of_date=pl.lit(as_of),
        )
    )


def classify_customers(customers: pl.DataFrame, settings: SegmentationSettings) -> pl.DataFrame:
    """The rows of marts.customer_segments from `customer_figures`' rows: the
    Pareto views and ABC classes, segment class, tier, at-risk flag and tier
    reason (§S4–§S6, §S10), sorted by customer_id.

    Reads only columns that marts.customer_segments publishes, so it also
    reclassifies published segments (`reclassify`)."""
    return (
        _with_pareto_views(customers, settings)
        .with_columns(segment_class=segment_class(settings))
        .with_columns(tier=tier(), at_risk=at_risk())
        .with_columns(tier_reason=tier_reason(settings))
        .pipe(CUSTOMER_SEGMENTS.conform)
        .sort("customer_id")
    )


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

    Customers without revenue are kept (class N, tier LAPSED or PROSPECT).
    Output sorted by customer_id.
    """
    figures = customer_figures(lines, erp_customers, accounts, fx_rates, opportunities, settings, as_of)
    return classify_customers(figures, settings)


def changed_settings(before: SegmentationSettings, after: SegmentationSettings) -> frozenset[str]:
    """The names of the fields whose values differ between two settings."""
    return frozenset(name for name in type(before).model_fields if getattr(before, name) != getattr(after, name))


def reclassifies(before: SegmentationSettings, after: SegmentationSettings) -> bool:
    """Whether segments computed under `before` give those under `after` by
    `reclassify`: only fields of CLASSIFICATION_SETTINGS differ."""
    return changed_settings(before, after) <= CLASSIFICATION_SETTINGS


def reclassify(segments: pl.DataFrame, before: SegmentationSettings, after: SegmentationSettings) -> pl.DataFrame:
    """`segments` (rows of marts.customer_segments computed under `before`)
    under `after`: the same rows as `build_customer_segments` with `after`,
    without reading the invoice lines again (a what-if scenario on the ABC
    cuts, §K11). Raises ValueError when a field outside
    CLASSIFICATION_SETTINGS differs: those need the whole segmentation."""
    others = changed_settings(before, after) - CLASSIFICATION_SETTINGS
    if others:
        raise ValueError(f"segments cannot be reclassified when {', '.join(sorted(others))} change: segment again")
    return classify_customers(segments, after)
