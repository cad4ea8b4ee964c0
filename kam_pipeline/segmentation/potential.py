"""Share of wallet and potential (methodology §S8)."""

from __future__ import annotations

import polars as pl

from kam_pipeline.ingest.contract.extracts import RATE
from kam_pipeline.segmentation.amounts import AMOUNT, ratio, ratio_at_least, to_amount
from kam_pipeline.segmentation.pareto import in_universe
from kam_pipeline.segmentation.percent_rank import percent_rank_fraction
from kam_pipeline.settings import SegmentationSettings

#: Potential class without wallet and without pipeline.
UNKNOWN = "UNKNOWN"


def benchmark_spend(settings: SegmentationSettings) -> pl.Expr:
    """Yearly spend per employee for the customer's industry, the "default"
    entry for industries not listed (null if there is no default either)."""
    by_industry = {k: v for k, v in settings.spend_per_employee.items() if k != "default"}
    return pl.col("industry").replace_strict(
        by_industry, default=settings.spend_per_employee.get("default"), return_dtype=pl.Float64
    )


def _benchmark_wallet(settings: SegmentationSettings) -> pl.Expr:
    return pl.col("employee_count").cast(pl.Decimal(18, 0)) * benchmark_spend(settings).cast(RATE)


def wallet(settings: SegmentationSettings) -> pl.Expr:
    """Sales' estimate summed over the group, else employees × benchmark spend."""
    return to_amount(pl.coalesce(pl.col("crm_wallet"), _benchmark_wallet(settings)))


def wallet_source(settings: SegmentationSettings) -> pl.Expr:
    """Where the wallet comes from: CRM, BENCHMARK or NONE."""
    return (
        pl.when(pl.col("crm_wallet").is_not_null())
        .then(pl.lit("CRM"))
        .when(_benchmark_wallet(settings).is_not_null())
        .then(pl.lit("BENCHMARK"))
        .otherwise(pl.lit("NONE"))
    )


def headroom() -> pl.Expr:
    """max(wallet − revenue_t12m, 0); negative revenue counts as 0 (net credit
    notes do not enlarge the wallet); null without a wallet."""
    revenue = pl.max_horizontal(pl.col("revenue_t12m"), pl.lit(0, AMOUNT))
    spare = pl.max_horizontal(pl.col("wallet") - revenue, pl.lit(0, AMOUNT))
    return pl.when(pl.col("wallet").is_not_null()).then(to_amount(spare))


def share_of_wallet() -> pl.Expr:
    """revenue_t12m / wallet, when the wallet is positive."""
    return pl.when(pl.col("wallet") > 0).then(ratio(pl.col("revenue_t12m"), pl.col("wallet")))


def potential_value() -> pl.Expr:
    """The larger of headroom (0 when unknown) and the weighted pipeline."""
    return to_amount(pl.max_horizontal(pl.col("headroom").fill_null(0), pl.col("pipeline_weighted")))


def _is_unknown() -> pl.Expr:
    return pl.col("wallet").is_null() & (pl.col("pipeline_weighted") == 0)


def potential_class(settings: SegmentationSettings) -> pl.Expr:
    """UNKNOWN without wallet and pipeline; else HIGH / MEDIUM / LOW by the percent
    rank of potential_value among the universe customers whose potential is
    known, compared exactly with the thresholds (§S8). Customers outside the
    universe are measured against that reference without entering it.
    """
    reference = pl.col("potential_value").filter(in_universe() & ~_is_unknown())
    below, spread = percent_rank_fraction(pl.col("potential_value"), reference)
    return (
        pl.when(_is_unknown())
        .then(pl.lit(UNKNOWN))
        .when(ratio_at_least(below, spread, settings.potential_high_pr))
        .then(pl.lit("HIGH"))
        .when(ratio_at_least(below, spread, settings.potential_medium_pr))
        .then(pl.lit("MEDIUM"))
        .otherwise(pl.lit("LOW"))
    )
