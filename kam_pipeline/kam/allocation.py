"""Coverage model: the hours each customer's plan needs, and what each manager's capacity covers.

AM hours follow the customer's coverage plan (§K6.1); a key account's KAM
hours go to the KAM managers of its region (§K6.2). Each manager serves its
customers in one priority order until its capacity runs out, so the plan
shows what is covered and what is not (§K6.3).
"""

from __future__ import annotations

import polars as pl

from kam_pipeline.kam.coverage import am_hours, check_tier_hours, coverage_plan, kam_hours, plan_priority
from kam_pipeline.kam.decisions import KAM_SERVED_DECISIONS
from kam_pipeline.kam.kam_team import is_key_account_manager, team
from kam_pipeline.kam.tables import RESOURCE_ALLOCATION
from kam_pipeline.settings import KamSettings

#: Hours are reported (and compared) to the hundredth of an hour.
HOURS_DECIMALS = 2

FULL, PARTIAL, UNCOVERED, POOLED = "FULL", "PARTIAL", "UNCOVERED", "POOLED"


def kam_assignments(needs: pl.DataFrame, managers: pl.DataFrame) -> pl.DataFrame:
    """owner_id, customer_id, priority, hours: each key account's KAM hours per KAM manager (§K6.2).

    Split evenly among the KAM managers of the customer's region; when the
    region has none, evenly across the whole KAM team.
    """
    kams = managers.filter(is_key_account_manager()).select("owner_id", "region")
    key_accounts = needs.filter(pl.col("kam_hours") > 0).select("customer_id", "priority", "region", "kam_hours")
    regional = key_accounts.join(kams, on="region", how="inner")
    team_wide = key_accounts.join(kams, on="region", how="anti").join(kams.select("owner_id"), how="cross")
    columns = ("owner_id", "customer_id", "priority", "kam_hours")
    return pl.concat([regional.select(columns), team_wide.select(columns)]).select(
        "owner_id", "customer_id", "priority", hours=pl.col("kam_hours") / pl.len().over("customer_id")
    )


def work_items(needs: pl.DataFrame, managers: pl.DataFrame) -> pl.DataFrame:
    """Every (manager, customer) piece of work: the owner's AM hours and each
    KAM's share of KAM hours, with the customer's priority and the kind."""
    am = needs.filter(pl.col("am_hours") > 0).select(
        "owner_id", "customer_id", "priority", hours=pl.col("am_hours"), kind=pl.lit("AM")
    )
    kam = kam_assignments(needs, managers).with_columns(kind=pl.lit("KAM"))
    return pl.concat([am, kam.select(am.columns)])


def serve(items: pl.DataFrame, managers: pl.DataFrame) -> pl.DataFrame:
    """`items` plus `allocated`: each manager serves its items in priority order
    (AM before KAM work for the same customer) until its capacity runs out."""
    served = (
        items.join(managers.select("owner_id", "capacity_hours"), on="owner_id", how="left")
        .sort("owner_id", "priority", "kind")
        .with_columns(before=pl.col("hours").cum_sum().over("owner_id") - pl.col("hours"))
    )
    left = pl.max_horizontal(pl.col("capacity_hours").fill_null(0.0) - pl.col("before"), pl.lit(0.0))
    return served.with_columns(allocated=pl.min_horizontal(pl.col("hours"), left)).drop("before", "capacity_hours")


def with_forced_tiers(segments: pl.DataFrame, tiers: pl.DataFrame | None) -> pl.DataFrame:
    """`segments` with the tier a TIER override forces (overrides.forced_tiers)
    in place of the computed one, and tier_override_id (§K5.8)."""
    if tiers is None:
        tiers = pl.DataFrame(schema=dict.fromkeys(("customer_id", "override_tier", "tier_override_id"), pl.String))
    return segments.join(tiers, on="customer_id", how="left", validate="1:1", maintain_order="left").with_columns(
        tier=pl.coalesce("override_tier", "tier")
    )


def coverage_needs(
    segments: pl.DataFrame, candidates: pl.DataFrame, settings: KamSettings, tiers: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Per customer: plan, priority (serving order), am_hours and kam_hours
    (§K6.1), on the tiers the TIER overrides force."""
    segments = with_forced_tiers(segments, tiers)
    check_tier_hours(segments, settings)
    key_account = pl.col("kam_decision").is_in(list(KAM_SERVED_DECISIONS))
    return (
        segments.join(
            candidates.select("customer_id", kam_decision="decision"), on="customer_id", how="left", validate="1:1"
        )
        .with_columns(plan=coverage_plan(settings, key_account))
        .with_columns(am_hours=am_hours(settings), kam_hours=kam_hours(settings), _plan_order=plan_priority())
        .sort("_plan_order", "portfolio_rank", "customer_id", nulls_last=True)
        .with_columns(priority=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
    )


#: The columns of each input frame resource_allocation reads (its asset reads only these).
ALLOCATION_READS = {
    "segments": (
        "customer_id",
        "as_of_date",
        "region",
        "owner_id",
        "segment_class",
        "portfolio_rank",
        "wallet_source",
        "potential_driver",
        "potential_class",
        "tier",
        "at_risk",
    ),
    "candidates": ("customer_id", "decision"),
}


def resource_allocation(
    segments: pl.DataFrame,
    candidates: pl.DataFrame,
    managers: pl.DataFrame,
    settings: KamSettings,
    tiers: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per customer: plan, priority, required and allocated hours and
    coverage (§K6); `tiers` are the TIER overrides that apply. Sorted by customer_id."""
    managers = team(managers, settings)
    needs = coverage_needs(segments, candidates, settings, tiers)
    served = serve(work_items(needs, managers), managers)
    allocated = served.group_by("customer_id").agg(
        allocated_am_hours=pl.col("allocated").filter(pl.col("kind") == "AM").sum(),
        allocated_kam_hours=pl.col("allocated").filter(pl.col("kind") == "KAM").sum(),
    )
    required = pl.col("am_hours") + pl.col("kam_hours")
    given = pl.col("allocated_am_hours") + pl.col("allocated_kam_hours")
    return (
        needs.join(allocated, on="customer_id", how="left")
        .with_columns(
            pl.col("allocated_am_hours", "allocated_kam_hours").fill_null(0.0).round(HOURS_DECIMALS),
        )
        .with_columns(
            coverage=pl.when(required == 0)
            .then(pl.lit(POOLED))
            .when(given >= required.round(HOURS_DECIMALS))
            .then(pl.lit(FULL))
            .when(given > 0)
            .then(pl.lit(PARTIAL))
            .otherwise(pl.lit(UNCOVERED))
        )
        .pipe(RESOURCE_ALLOCATION.conform)
        .sort("customer_id")
    )
