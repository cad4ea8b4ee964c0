"""Hand-built frames shaped like marts.customer_segments and staging.account_managers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from kam_pipeline.segmentation.tables import CUSTOMER_SEGMENTS
from kam_pipeline.settings import KamSettings

AS_OF = date(2025, 6, 30)
MONEY = pl.Decimal(18, 2)

#: The segmentation's own output contract, so these frames cannot drift from it.
SEGMENT_SCHEMA: dict[str, pl.DataType] = dict(CUSTOMER_SEGMENTS.schema)

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
    "last_invoice_date": AS_OF,
    "revenue_share": 0.1,
    "cumulative_share": 0.5,
    "abc_class": "A",
    "margin_abc_class": "A",
    "margin_share": 0.1,
    "region_abc_class": "A",
    "country_abc_class": "A",
    "portfolio_abc_class": "A",
    "portfolio_rank": 1,
    "wallet": 500_000,
    "wallet_source": "CRM",
    "wallet_below_revenue": False,
    "headroom": 400_000,
    "share_of_wallet": 0.2,
    "pipeline_weighted": 0,
    "potential_value": 100_000,
    "potential_driver": "HEADROOM",
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
    """customer_segments rows: each dict needs customer_id, the rest falls back to SEGMENT_DEFAULTS;
    segment_class follows abc_class unless given (the revenue basis)."""
    records = [
        {
            column: _cell(column, value)
            for column, value in {
                **SEGMENT_DEFAULTS,
                "customer_name": row["customer_id"],
                "segment_class": row.get("abc_class", SEGMENT_DEFAULTS["abc_class"]),
                **row,
            }.items()
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
