"""Revenue of ERP customers that are not mapped to a CRM account.

They are valid rows but outside the segmentation (docs/extracts.md); this
report shows how much of the window's revenue the segmentation cannot see.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from kam_pipeline.segmentation.amounts import line_amounts, ratio, to_amount
from kam_pipeline.segmentation.tables import UNMAPPED_CUSTOMERS
from kam_pipeline.segmentation.windows import reporting_windows
from kam_pipeline.settings import SegmentationSettings


def unmapped_customers(
    lines: pl.LazyFrame,
    erp_customers: pl.DataFrame,
    fx_rates: pl.DataFrame,
    settings: SegmentationSettings,
    as_of: date,
) -> tuple[pl.DataFrame, float]:
    """Per unmapped ERP customer: revenue_t12m and its share of all window
    revenue; and the unmapped share of the total (0 when there is no revenue).
    `lines` are invoice lines or their daily totals (kam_pipeline.segmentation.daily_totals)."""
    windows = reporting_windows(as_of, settings)
    per_customer = (
        line_amounts(lines.filter(windows.current("invoice_date")), fx_rates, settings.reporting_currency)
        .group_by("erp_customer_id")
        .agg(revenue_t12m=pl.col("net_amount_rc").sum())
        .collect()
    )
    total = per_customer.get_column("revenue_t12m").sum()
    unmapped = (
        erp_customers.filter(pl.col("crm_account_id").is_null())
        .select("erp_customer_id", "customer_name", "country_code")
        .join(per_customer, on="erp_customer_id", how="left")
        .with_columns(revenue_t12m=to_amount(pl.col("revenue_t12m").fill_null(0)))
        .with_columns(
            share_of_revenue=pl.when(pl.lit(total is not None and total > 0))
            .then(ratio(pl.col("revenue_t12m"), pl.lit(total)))
            .otherwise(0.0),
            as_of_date=pl.lit(as_of),
        )
        .sort("revenue_t12m", "erp_customer_id", descending=[True, False])
        .pipe(UNMAPPED_CUSTOMERS.conform)
    )
    share = float(unmapped.get_column("share_of_revenue").sum()) if len(unmapped) else 0.0
    return unmapped, share
