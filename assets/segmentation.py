"""Segmentation: marts.customer_segments (with its history snapshot) and
marts.segment_summary (docs/methodology.md §S)."""

from __future__ import annotations

import dagster as dg

from assets.metadata import markdown_table
from assets.tables import Tables, warehouse_asset
from kam_pipeline.segmentation import build_customer_segments, build_segment_summary

PREVIEW_COLUMNS = ["customer_id", "customer_name", "tier", "abc_class", "revenue_t12m", "revenue_share", "trend"]
COMPUTE_TAGS = {"stage": "compute"}


@warehouse_asset(
    "marts.customer_segments",
    reads=[
        "staging.invoice_lines",
        "staging.erp_customers",
        "staging.crm_accounts",
        "staging.fx_rates",
        "staging.opportunities",
    ],
    writes=["history.customer_segments"],
    group_name="segmentation",
    kinds={"duckdb", "polars"},
    tags=COMPUTE_TAGS,
    description="One row per customer (account group) for the run's as-of date: revenue and margin over the "
    "trailing window, Pareto share and ABC classes at company, region, country and portfolio level, growth, "
    "potential, threat and tier with the reason.",
)
def customer_segments(context: dg.AssetExecutionContext, tables: Tables) -> dg.MaterializeResult:
    run = tables.settings
    segments = build_customer_segments(
        tables.invoice_days(),
        tables.read("staging.erp_customers"),
        tables.read("staging.crm_accounts"),
        tables.read("staging.fx_rates"),
        tables.read("staging.opportunities"),
        run.segmentation,
        run.as_of,
    )
    tables.replace("marts.customer_segments", segments)
    tables.replace_rows("history.customer_segments", segments, {"as_of_date": run.as_of})
    top = segments.sort("revenue_t12m", descending=True).head(10).select(PREVIEW_COLUMNS)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(segments),
            "as_of_date": str(run.as_of),
            "tiers": dg.MetadataValue.json(dict(segments.get_column("tier").value_counts().iter_rows())),
            "top_customers": dg.MetadataValue.md(markdown_table(top)),
        }
    )


@warehouse_asset(
    "marts.segment_summary",
    reads=["marts.customer_segments"],
    group_name="segmentation",
    kinds={"duckdb", "polars"},
    tags=COMPUTE_TAGS,
    description="Customers and revenue per tier at each level (GLOBAL, REGION, COUNTRY, OWNER).",
)
def segment_summary(context: dg.AssetExecutionContext, tables: Tables) -> dg.MaterializeResult:
    summary = build_segment_summary(tables.read("marts.customer_segments"))
    tables.replace("marts.segment_summary", summary)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(summary),
            "global": dg.MetadataValue.md(markdown_table(summary.filter(summary["level"] == "GLOBAL"))),
        }
    )
