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


#: Where a customer's wallet comes from (§S8).
CRM, BENCHMARK, MIXED, NONE = "CRM", "BENCHMARK", "MIXED", "NONE"
#: What drives the potential value (§S8); NONE when neither is known.
HEADROOM, PIPELINE = "HEADROOM", "PIPELINE"


def benchmark_spend(settings: SegmentationSettings) -> pl.Expr:
    """Yearly spend per employee for the account's industry, the "default"
    entry for industries not listed (null if there is no default either)."""
    by_industry = {k: v for k, v in settings.spend_per_employee.items() if k != "default"}
    return pl.col("industry").replace_strict(
        by_industry, default=settings.spend_per_employee.get("default"), return_dtype=pl.Float64
    )


def _benchmark_wallet(settings: SegmentationSettings) -> pl.Expr:
    return pl.col("employee_count").cast(pl.Decimal(18, 0)) * benchmark_spend(settings).cast(RATE)


def account_wallet(settings: SegmentationSettings) -> pl.Expr:
    """One CRM account's wallet: sales' estimate, else its employees × the
    benchmark spend of its industry; null when it has neither (§S8)."""
    return pl.coalesce(pl.col("estimated_wallet").cast(pl.Decimal(38, 8)), _benchmark_wallet(settings))


def account_wallet_source(settings: SegmentationSettings) -> pl.Expr:
    """CRM or BENCHMARK for an account with a wallet, null without."""
    return (
        pl.when(pl.col("estimated_wallet").is_not_null())
        .then(pl.lit(CRM))
        .when(_benchmark_wallet(settings).is_not_null())
        .then(pl.lit(BENCHMARK))
    )


def group_wallet() -> pl.Expr:
    """Aggregation over a group's accounts: the sum of their wallets, rounded
    once to cents; null when no account has one (§S8)."""
    wallet = pl.col("account_wallet")
    return pl.when(wallet.count() > 0).then(to_amount(wallet.sum()))


def group_wallet_source() -> pl.Expr:
    """Aggregation over a group's accounts: CRM or BENCHMARK when every account
    with a wallet has that source, MIXED when both occur, NONE without any."""
    sources = pl.col("account_wallet_source")
    crm, benchmark = (sources == CRM).any(), (sources == BENCHMARK).any()
    return (
        pl.when(crm & benchmark)
        .then(pl.lit(MIXED))
        .when(crm)
        .then(pl.lit(CRM))
        .when(benchmark)
        .then(pl.lit(BENCHMARK))
        .otherwise(pl.lit(NONE))
    )


def wallet_below_revenue() -> pl.Expr:
    """The customer bought more than its estimated wallet: the estimate is
    wrong, so its headroom is unknown rather than zero (§S8)."""
    return (pl.col("wallet").is_not_null() & (pl.col("revenue_t12m") > pl.col("wallet"))).fill_null(False)


def headroom() -> pl.Expr:
    """wallet − max(revenue_t12m, 0): negative revenue counts as 0 (net credit
    notes do not enlarge the wallet); null without a wallet or when the
    wallet is below revenue."""
    revenue = pl.max_horizontal(pl.col("revenue_t12m"), pl.lit(0, AMOUNT))
    return pl.when(pl.col("wallet").is_not_null() & ~pl.col("wallet_below_revenue")).then(
        to_amount(pl.col("wallet") - revenue)
    )


def share_of_wallet() -> pl.Expr:
    """revenue_t12m / wallet, when the wallet is positive (above 1 when the wallet is below revenue)."""
    return pl.when(pl.col("wallet") > 0).then(ratio(pl.col("revenue_t12m"), pl.col("wallet")))


def material_pipeline(settings: SegmentationSettings) -> pl.Expr:
    """The weighted open pipeline when it is material: positive and at least
    potential_pipeline_min_share of revenue_t12m (any positive pipeline
    without revenue); 0 otherwise (§S8)."""
    revenue = pl.max_horizontal(pl.col("revenue_t12m"), pl.lit(0, AMOUNT))
    pipeline = pl.col("pipeline_weighted")
    material = (pipeline > 0) & ratio_at_least(pipeline, revenue, settings.potential_pipeline_min_share)
    return pl.when(material.fill_null(False)).then(pipeline).otherwise(pl.lit(0, AMOUNT))


def potential_value(settings: SegmentationSettings) -> pl.Expr:
    """The larger of headroom (0 when unknown) and the material pipeline."""
    return to_amount(pl.max_horizontal(pl.col("headroom").fill_null(0), material_pipeline(settings)))


def potential_driver(settings: SegmentationSettings) -> pl.Expr:
    """PIPELINE when the material pipeline exceeds the headroom, HEADROOM when
    the headroom is known and at least as large, NONE otherwise."""
    pipeline = material_pipeline(settings)
    return (
        pl.when((pipeline > 0) & (pipeline > pl.col("headroom").fill_null(0)))
        .then(pl.lit(PIPELINE))
        .when(pl.col("headroom").is_not_null())
        .then(pl.lit(HEADROOM))
        .otherwise(pl.lit(NONE))
    )


def _is_unknown() -> pl.Expr:
    return pl.col("potential_driver") == NONE


def potential_class(settings: SegmentationSettings) -> pl.Expr:
    """UNKNOWN without a known headroom and without material pipeline; else
    HIGH / MEDIUM / LOW by the percent rank of potential_value among the
    universe customers whose potential is known, compared exactly with the
    thresholds (§S8). Customers outside the universe are measured against
    that reference without entering it.
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
