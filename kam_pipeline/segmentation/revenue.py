"""Revenue and margin per customer in the trailing and prior windows
(methodology §S3): the one pass over the invoice lines."""

from __future__ import annotations

import polars as pl

from kam_pipeline.segmentation.amounts import line_amounts, ratio, to_amount
from kam_pipeline.segmentation.pareto import in_universe
from kam_pipeline.segmentation.windows import Windows
from kam_pipeline.settings import SegmentationSettings

#: Per-customer sums, all amounts in the reporting currency.
_SUMS = ("revenue_t12m", "revenue_prior", "margin_t12m", "margin_prior", "costed_revenue_t12m")


def customer_revenue(
    lines: pl.LazyFrame,
    erp_customers: pl.DataFrame,
    account_customer: pl.DataFrame,
    fx_rates: pl.DataFrame,
    settings: SegmentationSettings,
    windows: Windows,
) -> pl.DataFrame:
    """Sum the lines of mapped ERP customers per customer, with one collect.

    `lines` are invoice lines or their daily totals (kam_pipeline.segmentation.daily_totals,
    with a `lines` count): both give the same sums. They are filtered to the
    periods the method reads, converted, aggregated per ERP customer (the
    large step) and only then mapped to customers.
    Returns `customer_id`, the amounts in `_SUMS` (rounded to cents),
    `has_recent_invoice` (an INVOICE line in the inactivity period, §S9) and
    `last_invoice_date` (the latest INVOICE line on or before D, whatever
    its window, §S3; null for a customer never invoiced).
    Raises ValueError when a line has no FX rate (validation quarantines them).
    """
    margin = pl.col("net_amount_rc") - pl.col("cost_amount_rc")  # null when the cost is unknown
    cost_known = pl.col("cost_amount_rc").is_not_null()
    current, prior = windows.current("invoice_date"), windows.prior("invoice_date")
    line_count = pl.col("lines") if "lines" in lines.collect_schema() else pl.lit(1)
    per_erp_customer = (
        line_amounts(
            lines.filter(pl.col("invoice_date").is_between(windows.earliest, windows.as_of, closed="right")),
            fx_rates,
            settings.reporting_currency,
        )
        .group_by("erp_customer_id")
        .agg(
            revenue_t12m=pl.col("net_amount_rc").filter(current).sum(),
            revenue_prior=pl.col("net_amount_rc").filter(prior).sum(),
            margin_t12m=margin.filter(current).sum(),
            margin_prior=margin.filter(prior).sum(),
            costed_revenue_t12m=pl.col("net_amount_rc").filter(current & cost_known).sum(),
            has_recent_invoice=((pl.col("document_type") == "INVOICE") & windows.recent("invoice_date")).any(),
            lines_without_rate=line_count.filter(pl.col("net_amount_rc").is_null()).sum(),
        )
    )
    mapping = (
        erp_customers.lazy()
        .join(account_customer.lazy(), left_on="crm_account_id", right_on="account_id")
        .select("erp_customer_id", "customer_id")
    )
    per_customer = (
        per_erp_customer.join(mapping, on="erp_customer_id", how="inner")
        .group_by("customer_id")
        .agg(
            *(pl.col(name).sum() for name in _SUMS),
            pl.col("has_recent_invoice").any(),
            pl.col("lines_without_rate").sum(),
        )
    )
    last_invoice = (
        lines.filter((pl.col("document_type") == "INVOICE") & (pl.col("invoice_date") <= windows.as_of))
        .group_by("erp_customer_id")
        .agg(last_invoice_date=pl.col("invoice_date").max())
        .join(mapping, on="erp_customer_id", how="inner")
        .group_by("customer_id")
        .agg(pl.col("last_invoice_date").max())
    )
    per_customer, last_invoice = pl.collect_all([per_customer, last_invoice], engine="streaming")
    missing = per_customer.get_column("lines_without_rate").sum()
    if missing:
        raise ValueError(
            f"{missing} invoice lines of mapped ERP customers have no FX rate for their currency and invoice month "
            "(fx_rates.month); validation should have quarantined them"
        )
    sums = per_customer.select("customer_id", *(to_amount(pl.col(name)) for name in _SUMS), "has_recent_invoice")
    return sums.join(last_invoice, on="customer_id", how="full", coalesce=True)


def margin_pct() -> pl.Expr:
    """margin_t12m / revenue_t12m for customers with positive revenue (§S3)."""
    return pl.when(in_universe()).then(ratio(pl.col("margin_t12m"), pl.col("revenue_t12m")))


def margin_coverage() -> pl.Expr:
    """Share of window revenue on lines whose cost is known (§S3)."""
    return pl.when(in_universe()).then(ratio(pl.col("costed_revenue_t12m"), pl.col("revenue_t12m")))
