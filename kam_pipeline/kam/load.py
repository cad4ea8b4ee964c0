"""Account-manager load: the hours the coverage model asks of each manager against their capacity.

AM hours go to the customer's owner; a key account's KAM hours are split
evenly among the KAM managers of its region, or of the whole KAM team when
the region has none (methodology §K6.2–§K6.3).
"""

from __future__ import annotations

import polars as pl

from kam_pipeline.kam.kam_team import is_key_account_manager
from kam_pipeline.kam.snapshot import snapshot_date
from kam_pipeline.kam.tables import ACCOUNT_MANAGER_LOAD
from kam_pipeline.settings import KamSettings

OVER = "OVER"
UNDER = "UNDER"
BALANCED = "BALANCED"

#: Hours are reported (and compared) to the hundredth of an hour.
HOURS_DECIMALS = 2


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


def kam_assignments(allocation: pl.DataFrame, managers: pl.DataFrame) -> pl.DataFrame:
    """owner_id, customer_id, hours: each key account's KAM hours per KAM manager (§K6.2).

    Split evenly among the KAM managers of the customer's region; when the
    region has none, evenly across the whole KAM team.
    """
    kams = managers.filter(is_key_account_manager()).select("owner_id", "region")
    key_accounts = allocation.filter(pl.col("kam_hours") > 0).select("customer_id", "region", "kam_hours")
    regional = key_accounts.join(kams, on="region", how="inner")
    team_wide = key_accounts.join(kams, on="region", how="anti").join(kams.select("owner_id"), how="cross")
    columns = ("owner_id", "customer_id", "kam_hours")
    return pl.concat([regional.select(columns), team_wide.select(columns)]).select(
        "owner_id", "customer_id", hours=pl.col("kam_hours") / pl.len().over("customer_id")
    )


def account_manager_load(allocation: pl.DataFrame, managers: pl.DataFrame, settings: KamSettings) -> pl.DataFrame:
    """One row per account manager (also those without customers), sorted by owner_id (§K6.3).

    customers = distinct customers the manager owns or serves as KAM;
    required_hours = their AM hours plus the manager's share of KAM hours;
    utilisation = required_hours / capacity_hours.
    """
    owned = allocation.select("owner_id", "customer_id", hours=pl.col("am_hours"))
    work = (
        pl.concat([owned, kam_assignments(allocation, managers)])
        .group_by("owner_id")
        .agg(
            customers=pl.col("customer_id").n_unique().cast(pl.Int64),
            required_hours=pl.col("hours").sum().round(HOURS_DECIMALS),
        )
    )
    return (
        managers.join(work, on="owner_id", how="left")
        .with_columns(pl.col("customers").fill_null(0), pl.col("required_hours").fill_null(0.0))
        .with_columns(utilisation=pl.col("required_hours") / pl.col("capacity_hours"))
        .with_columns(
            load_status=load_status(settings),
            as_of_date=pl.lit(snapshot_date(allocation, "resource_allocation"), dtype=pl.Date),
        )
        .pipe(ACCOUNT_MANAGER_LOAD.conform)
        .sort("owner_id")
    )
