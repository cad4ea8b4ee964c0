"""The KAM team: key account managers, the number of key accounts they can
serve and what an hour of their time costs (methodology §K4, §K7).
"""

from __future__ import annotations

import math

import polars as pl

from kam_pipeline.settings import KamSettings

KAM_ROLE = "KAM"


def is_key_account_manager() -> pl.Expr:
    """Rows of `account_managers` that belong to the KAM team."""
    return pl.col("role") == KAM_ROLE


def key_account_capacity(managers: pl.DataFrame, settings: KamSettings) -> int:
    """max_key_accounts = floor(Σ capacity_hours of KAM managers / hours_per_key_account).

    Floor, because a key account served with a fraction of the hours it needs
    is not served (§K4).
    """
    hours = managers.filter(is_key_account_manager()).get_column("capacity_hours").sum()
    return math.floor(hours / settings.hours_per_key_account)


def mean_kam_hourly_cost(managers: pl.DataFrame) -> float | None:
    """Unweighted mean `hourly_cost` of the KAM managers; None when there are none (§K7.2)."""
    return managers.filter(is_key_account_manager()).get_column("hourly_cost").cast(pl.Float64).mean()
