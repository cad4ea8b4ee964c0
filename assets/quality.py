"""Quality: revenue the segmentation cannot see (unmapped ERP customers)."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import polars as pl

from assets.metadata import markdown_table
from assets.tables import Tables, warehouse_asset
from kam_pipeline.segmentation.unmapped import unmapped_customers

UNMAPPED_CHECK = "unmapped_revenue_share"


@warehouse_asset(
    "quality.unmapped_customers",
    reads=["staging.invoice_lines", "staging.erp_customers", "staging.fx_rates"],
    group_name="quality",
    kinds={"duckdb", "polars"},
    tags={"stage": "validate"},
    description="ERP customers without a CRM account: valid, but outside the segmentation. "
    "Their trailing-window revenue and its share of all revenue.",
    check_specs=[
        dg.AssetCheckSpec(
            UNMAPPED_CHECK,
            asset=["quality", "unmapped_customers"],
            description="Warns when unmapped customers carry more than validation.unmapped_revenue_warn_share.",
        )
    ],
)
def quality_unmapped_customers(
    context: dg.AssetExecutionContext, tables: Tables
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    run = tables.settings
    report, share = unmapped_customers(
        tables.invoice_days(),
        tables.read("staging.erp_customers"),
        tables.read("staging.fx_rates"),
        run.segmentation,
        run.as_of,
    )
    tables.replace("quality.unmapped_customers", report)
    threshold = run.validation.unmapped_revenue_warn_share
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(report),
            "unmapped_revenue_share": dg.MetadataValue.float(share),
            "top_unmapped": dg.MetadataValue.md(markdown_table(report.head(10))),
        }
    )
    yield dg.AssetCheckResult(
        check_name=UNMAPPED_CHECK,
        passed=share <= threshold,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "share": dg.MetadataValue.float(share),
            "threshold": dg.MetadataValue.float(threshold),
            "revenue_t12m": dg.MetadataValue.float(float(report.get_column("revenue_t12m").sum() or 0)),
            "customers": len(report.filter(pl.col("revenue_t12m") != 0)),
        },
    )
