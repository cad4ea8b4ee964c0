"""Hand-built frames shaped like marts.customer_segments and staging.account_managers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from kam_pipeline.settings import KamSettings

AS_OF = date(2025, 6, 30)
MONEY = pl.Decimal(18, 2)

SEGMENT_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "customer_name": pl.String(),
    "region": pl.String(),
    "country_code": pl.String(),
    "industry": pl.String(),
    "owner_id": pl.String(),
    "revenue_t12m": MONEY,
    "revenue_prior": MONEY,
    "margin_t12m": MONEY,
    "margin_prior": MONEY,
    "margin_pct": pl.Float64(),
    "margin_coverage": pl.Float64(),
    "growth_pct": pl.Float64(),
    "trend": pl.String(),
    "revenue_share": pl.Float64(),
    "cumulative_share": pl.Float64(),
    "abc_class": pl.String(),
    "margin_abc_class": pl.String(),
    "region_abc_class": pl.String(),
    "country_abc_class": pl.String(),
    "portfolio_abc_class": pl.String(),
    "portfolio_rank": pl.Int64(),
    "wallet": MONEY,
    "wallet_source": pl.String(),
    "headroom": MONEY,
    "share_of_wallet": pl.Float64(),
    "pipeline_weighted": MONEY,
    "potential_value": MONEY,
    "potential_class": pl.String(),
    "threat_level": pl.String(),
    "threat_reasons": pl.String(),
    "tier": pl.String(),
    "at_risk": pl.Boolean(),
    "tier_reason": pl.String(),
    "as_of_date": pl.Date(),
    "competitive_position": pl.Int64(),
    "is_current_key_account": pl.Boolean(),
    "key_account_since": pl.Date(),
}

SEGMENT_DEFAULTS: dict[str, Any] = {
    "region": "North",
    "country_code": "DE",
    "industry": "Manufacturing",
    "owner_id": "AM1",
    "revenue_t12m": 100_000,
    "revenue_prior": 100_000,
    "margin_t12m": 20_000,
    "margin_prior": 20_000,
    "margin_pct": 0.20,
    "margin_coverage": 1.0,
    "growth_pct": 0.0,
    "trend": "STABLE",
    "revenue_share": 0.1,
    "cumulative_share": 0.5,
    "abc_class": "A",
    "margin_abc_class": "A",
    "region_abc_class": "A",
    "country_abc_class": "A",
    "portfolio_abc_class": "A",
    "portfolio_rank": 1,
    "wallet": 500_000,
    "wallet_source": "estimate",
    "headroom": 400_000,
    "share_of_wallet": 0.2,
    "pipeline_weighted": 0,
    "potential_value": 100_000,
    "potential_class": "HIGH",
    "threat_level": "LOW",
    "threat_reasons": None,
    "tier": "CORE",
    "at_risk": False,
    "tier_reason": "test",
    "as_of_date": AS_OF,
    "competitive_position": 3,
    "is_current_key_account": False,
    "key_account_since": None,
}


def _cell(column: str, value: Any) -> Any:
    if value is not None and SEGMENT_SCHEMA[column] == MONEY:
        return Decimal(str(value))
    return value


def segments_frame(*rows: dict[str, Any]) -> pl.DataFrame:
    """customer_segments rows: each dict needs customer_id, the rest falls back to SEGMENT_DEFAULTS."""
    records = [
        {
            column: _cell(column, value)
            for column, value in {**SEGMENT_DEFAULTS, "customer_name": row["customer_id"], **row}.items()
        }
        for row in rows
    ]
    return pl.DataFrame(records, schema=SEGMENT_SCHEMA)


def managers_frame(*rows: tuple[str, str, str, float, str]) -> pl.DataFrame:
    """account_managers rows (owner_id, role, region, capacity_hours, hourly_cost); name = owner_id."""
    return pl.DataFrame(
        [
            (owner, f"Manager {owner}", role, region, capacity, Decimal(cost))
            for owner, role, region, capacity, cost in rows
        ],
        schema={
            "owner_id": pl.String(),
            "name": pl.String(),
            "role": pl.String(),
            "region": pl.String(),
            "capacity_hours": pl.Float64(),
            "hourly_cost": pl.Decimal(18, 4),
        },
        orient="row",
    )


@pytest.fixture
def settings() -> KamSettings:
    return KamSettings()


@pytest.fixture
def make_segments() -> Callable[..., pl.DataFrame]:
    return segments_frame


@pytest.fixture
def make_managers() -> Callable[..., pl.DataFrame]:
    return managers_frame
