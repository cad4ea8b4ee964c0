"""Account-manager load: the hours the coverage plans ask of each manager
against capacity, what fits, and the gap in hours and FTE (methodology §K6.3–§K6.4)."""

from __future__ import annotations

import polars as pl

from kam_pipeline.kam.allocation import HOURS_DECIMALS, serve, work_items
from kam_pipeline.kam.kam_team import team
from kam_pipeline.kam.snapshot import snapshot_date
from kam_pipeline.kam.tables import ACCOUNT_MANAGER_LOAD, CAPACITY_GAP
from kam_pipeline.settings import KamSettings

OVER = "OVER"
UNDER = "UNDER"
BALANCED = "BALANCED"


def load_status(settings: KamSettings) -> pl.Expr:
    """OVER above load_over, UNDER below load_under, BALANCED in between (§K6.3).

    A utilisation exactly at either bound is BALANCED.
    """
    utilisation = pl.col("utilisation")
    return (
        pl.when(utilisation > settings.load_over)
        .then(pl.lit(OVER))
        .when(utilisation < settings.load_under)
        .then(pl.lit(UNDER))
        .otherwise(pl.lit(BALANCED))
    )


def _gap(settings: KamSettings) -> dict[str, pl.Expr]:
    gap = pl.col("required_hours") - pl.col("capacity_hours")
    return {
        "utilisation": pl.col("required_hours") / pl.col("capacity_hours"),
        "gap_hours": gap.round(HOURS_DECIMALS),
        "gap_fte": gap / settings.fte_hours,
    }


def account_manager_load(allocation: pl.DataFrame, managers: pl.DataFrame, settings: KamSettings) -> pl.DataFrame:
    """One row per account manager (also those without customers), sorted by owner_id (§K6.3).

    customers = distinct customers the manager owns or serves as KAM with
    hours; required_hours = their AM hours plus the manager's share of KAM
    hours; allocated_hours = what fits in capacity in serving order.
    """
    managers = team(managers, settings)
    served = serve(work_items(allocation, managers), managers)
    work = served.group_by("owner_id").agg(
        customers=pl.col("customer_id").n_unique().cast(pl.Int64),
        required_hours=pl.col("hours").sum().round(HOURS_DECIMALS),
        allocated_hours=pl.col("allocated").sum().round(HOURS_DECIMALS),
        uncovered_customers=pl.col("customer_id").filter(pl.col("allocated") < pl.col("hours")).n_unique(),
    )
    return (
        managers.join(work, on="owner_id", how="left")
        .with_columns(
            pl.col("customers", "uncovered_customers").fill_null(0),
            pl.col("required_hours", "allocated_hours").fill_null(0.0),
        )
        .with_columns(**_gap(settings))
        .with_columns(
            load_status=load_status(settings),
            as_of_date=pl.lit(snapshot_date(allocation, "resource_allocation"), dtype=pl.Date),
        )
        .pipe(ACCOUNT_MANAGER_LOAD.conform)
        .sort("owner_id")
    )


def capacity_gap(load: pl.DataFrame, settings: KamSettings) -> pl.DataFrame:
    """Required against available hours for the TEAM, each ROLE and each REGION (§K6.4)."""
    levels = {"TEAM": pl.lit("ALL"), "ROLE": pl.col("role"), "REGION": pl.col("region")}
    rows = [
        load.group_by(value.alias("level_value"))
        .agg(
            managers=pl.len().cast(pl.Int64),
            required_hours=pl.col("required_hours").sum(),
            allocated_hours=pl.col("allocated_hours").sum(),
            capacity_hours=pl.col("capacity_hours").sum(),
            as_of_date=pl.col("as_of_date").first(),
        )
        .with_columns(level=pl.lit(level))
        for level, value in levels.items()
    ]
    gap = pl.concat(rows, how="vertical_relaxed").with_columns(
        **_gap(settings),
        uncovered_hours=(pl.col("required_hours") - pl.col("allocated_hours")).round(HOURS_DECIMALS),
    )
    return CAPACITY_GAP.conform(gap).sort(pl.col("level").cast(pl.Enum(list(levels))), "level_value")
