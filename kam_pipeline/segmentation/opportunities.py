"""Open pipeline and lost deals per customer (methodology §S8, §S9)."""

from __future__ import annotations

import polars as pl

from kam_pipeline.segmentation.amounts import opportunity_amounts, to_amount
from kam_pipeline.segmentation.windows import Windows
from kam_pipeline.settings import SegmentationSettings


def customer_opportunities(
    opportunities: pl.DataFrame,
    fx_rates: pl.DataFrame,
    account_customer: pl.DataFrame,
    settings: SegmentationSettings,
    windows: Windows,
) -> pl.DataFrame:
    """`customer_id`, `pipeline_weighted` (Σ amount × probability of OPEN
    opportunities closing in (D, D + W]) and `lost_deals_amount` (Σ amount of
    LOST opportunities closed in (D − W, D]), in the reporting currency.

    Raises ValueError when one of these opportunities has no FX rate at or
    before the as-of month.
    """
    is_pipeline = (pl.col("status") == "OPEN") & windows.pipeline("close_date")
    is_lost = (pl.col("status") == "LOST") & windows.current("close_date")
    relevant = opportunity_amounts(
        opportunities.filter(is_pipeline | is_lost), fx_rates, settings.reporting_currency, windows.as_of
    ).join(account_customer, on="account_id", how="inner")
    unconverted = relevant.filter(pl.col("amount_rc").is_null())
    if not unconverted.is_empty():
        currencies = ", ".join(unconverted.get_column("currency").unique().sort().to_list())
        raise ValueError(
            f"{len(unconverted)} opportunities have no FX rate at or before {windows.as_of:%Y-%m} "
            f"for their currency ({currencies}); add the rates to fx_rates"
        )
    probability = pl.col("probability").cast(pl.Decimal(18, 8))
    return relevant.group_by("customer_id").agg(
        pipeline_weighted=to_amount((pl.col("amount_rc") * probability).filter(is_pipeline).sum()),
        lost_deals_amount=to_amount(pl.col("amount_rc").filter(is_lost).sum()),
    )
