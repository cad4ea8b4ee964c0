"""The KAM team: key account managers, the number of key accounts they can
serve and what an hour of their time costs (methodology §K4, §K7).
"""

from __future__ import annotations

import math

import polars as pl

from kam_pipeline.kam.coverage import am_hours, coverage_plan
from kam_pipeline.settings import KamSettings

KAM_ROLE = "KAM"
#: owner_id prefix of the key account managers a plan adds (kam.planned_kam_hours).
PLANNED_PREFIX = "PLANNED-KAM-"


def is_key_account_manager() -> pl.Expr:
    """Rows of `account_managers` that belong to the KAM team."""
    return pl.col("role") == KAM_ROLE


def team(managers: pl.DataFrame, settings: KamSettings) -> pl.DataFrame:
    """`managers` plus one planned key account manager per region of
    `kam.planned_kam_hours` (owner_id PLANNED-KAM-<region>, the region's
    hours, the KAM team's mean hourly cost), so that a plan for more KAM
    time flows through seats, allocation, load and cost like a real hire
    (§K4). Idempotent."""
    actual = managers.filter(~pl.col("owner_id").str.starts_with(PLANNED_PREFIX))
    if not settings.planned_kam_hours:
        return actual
    cost = mean_kam_hourly_cost(actual)
    planned = pl.DataFrame(
        {
            "owner_id": [PLANNED_PREFIX + region for region in settings.planned_kam_hours],
            "name": [f"Planned key account manager ({region})" for region in settings.planned_kam_hours],
            "role": KAM_ROLE,
            "region": list(settings.planned_kam_hours),
            "capacity_hours": list(settings.planned_kam_hours.values()),
            "hourly_cost": cost,
        }
    )
    planned = planned.select(
        pl.col(name).cast(dtype) if name in planned.columns else pl.lit(None, dtype).alias(name)
        for name, dtype in actual.schema.items()
    )
    return pl.concat([actual, planned])


def key_account_hours(managers: pl.DataFrame, segments: pl.DataFrame, settings: KamSettings) -> pl.DataFrame:
    """Per KAM manager (`owner_id`): `portfolio_hours`, the AM hours of the
    customers it owns that are not current key accounts (its own portfolio,
    §K6.1 plans), and `key_account_hours` = max(capacity_hours −
    portfolio_hours, 0), the hours left for key accounts (§K4)."""
    own = (
        segments.filter(~pl.col("is_current_key_account"))
        .with_columns(plan=coverage_plan(settings, pl.lit(False)))
        .group_by("owner_id")
        .agg(portfolio_hours=am_hours(settings).sum())
    )
    return (
        managers.filter(is_key_account_manager())
        .select("owner_id", "capacity_hours")
        .join(own, on="owner_id", how="left")
        .with_columns(pl.col("portfolio_hours").fill_null(0.0))
        .with_columns(
            key_account_hours=pl.max_horizontal(pl.col("capacity_hours") - pl.col("portfolio_hours"), pl.lit(0.0))
        )
        .drop("capacity_hours")
    )


def key_account_capacity(managers: pl.DataFrame, segments: pl.DataFrame, settings: KamSettings) -> int:
    """max_key_accounts = floor(Σ key_account_hours of the KAM managers / hours_per_key_account).

    Floor, because a key account served with a fraction of the hours it needs
    is not served; net of the KAMs' own portfolios, because those hours are
    spoken for (§K4).
    """
    hours = key_account_hours(managers, segments, settings).get_column("key_account_hours").sum()
    return math.floor(hours / settings.hours_per_key_account)


def mean_kam_hourly_cost(managers: pl.DataFrame) -> float | None:
    """Unweighted mean `hourly_cost` of the KAM managers; None when there are none (§K7.2)."""
    return managers.filter(is_key_account_manager()).get_column("hourly_cost").cast(pl.Float64).mean()
