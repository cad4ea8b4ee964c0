"""Coverage model: the yearly account-manager and KAM hours each customer should get.

AM hours follow the customer's tier; KAM hours go to the key accounts of the
coming year (KEEP and ADD) (methodology §K6).
"""

from __future__ import annotations

import polars as pl

from kam_pipeline.kam.decisions import KAM_SERVED_DECISIONS
from kam_pipeline.kam.load import account_manager_load
from kam_pipeline.kam.tables import RESOURCE_ALLOCATION
from kam_pipeline.settings import KamSettings


def _check_tiers(segments: pl.DataFrame, settings: KamSettings) -> None:
    """Fail with the offending tiers when kam.tier_hours does not cover every tier."""
    unknown = segments.filter(~pl.col("tier").is_in(list(settings.tier_hours)).fill_null(False))
    if len(unknown):
        tiers = sorted({str(t) for t in unknown.get_column("tier").to_list()})
        example = unknown.get_column("customer_id").sort().head(3).to_list()
        raise ValueError(
            f"kam.tier_hours has no hours for tier(s) {tiers} "
            f"({len(unknown)} customers, e.g. {example}); expected one of {sorted(settings.tier_hours)}"
        )


def resource_allocation(segments: pl.DataFrame, candidates: pl.DataFrame, settings: KamSettings) -> pl.DataFrame:
    """One row per customer: am_hours = tier_hours[tier]; kam_hours = hours_per_key_account
    for KEEP and ADD, else 0 (§K6.1). Sorted by customer_id."""
    _check_tiers(segments, settings)
    key_account = pl.col("kam_decision").is_in(list(KAM_SERVED_DECISIONS))
    return (
        segments.join(
            candidates.select("customer_id", kam_decision="decision"), on="customer_id", how="left", validate="1:1"
        )
        .with_columns(
            am_hours=pl.col("tier").replace_strict(settings.tier_hours, return_dtype=pl.Float64),
            kam_hours=pl.when(key_account).then(settings.hours_per_key_account).otherwise(0.0),
        )
        .pipe(RESOURCE_ALLOCATION.conform)
        .sort("customer_id")
    )


def allocate_resources(
    segments: pl.DataFrame, candidates: pl.DataFrame, managers: pl.DataFrame, settings: KamSettings
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(resource_allocation, account_manager_load) of one snapshot (§K6)."""
    allocation = resource_allocation(segments, candidates, settings)
    return allocation, account_manager_load(allocation, managers, settings)
