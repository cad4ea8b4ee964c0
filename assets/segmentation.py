"""Segmentation: marts.customer_segments (with its history snapshot) and
marts.segment_summary (docs/methodology.md §S)."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg

from assets.metadata import check_result, markdown_table
from assets.tables import Tables, asset_key, warehouse_asset
from kam_pipeline.segmentation import build_customer_segments, build_segment_summary
from kam_pipeline.segmentation.checks import one_row_per, revenue_reconciles, revenue_shares_sum_to_one, window_revenue
from kam_pipeline.segmentation.segments import SEGMENTATION_READS

PREVIEW_COLUMNS = ["customer_id", "customer_name", "tier", "abc_class", "revenue_t12m", "revenue_share", "trend"]
COMPUTE_TAGS = {"stage": "compute"}
SEGMENTS = "marts.customer_segments"
#: What BI reads must not mislead: each of these blocks publishing when it fails (docs/validation.md).
ONE_ROW_CHECK = dg.AssetCheckSpec(
    "one_row_per_customer",
    asset=asset_key(SEGMENTS),
    blocking=True,
    description="One row per customer_id and as_of_date: a duplicate would double every sum a BI tool makes.",
)
SHARES_CHECK = dg.AssetCheckSpec(
    "revenue_shares_sum_to_one",
    asset=asset_key(SEGMENTS),
    blocking=True,
    description="revenue_share adds up to 1 over the universe when it has revenue, and is null outside it "
    "(docs/methodology.md §S4).",
)
RECONCILIATION_CHECK = dg.AssetCheckSpec(
    "revenue_reconciles",
    asset=asset_key(SEGMENTS),
    blocking=True,
    description="Σ revenue_t12m of the segments + of quality.unmapped_customers = the trailing window's accepted "
    "invoice lines in the reporting currency, up to the rounding of each amount to cents "
    "(docs/methodology.md §S1, §S3).",
)


@warehouse_asset(
    SEGMENTS,
    reads=[
        "quality.unmapped_customers",
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
    check_specs=[ONE_ROW_CHECK, SHARES_CHECK, RECONCILIATION_CHECK],
)
def customer_segments(
    context: dg.AssetExecutionContext, tables: Tables
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    run = tables.settings
    fx_rates = tables.read("staging.fx_rates", SEGMENTATION_READS["fx_rates"])
    segments = build_customer_segments(
        tables.invoice_days(),
        tables.read("staging.erp_customers", SEGMENTATION_READS["erp_customers"]),
        tables.read("staging.crm_accounts", SEGMENTATION_READS["accounts"]),
        fx_rates,
        tables.read("staging.opportunities", SEGMENTATION_READS["opportunities"]),
        run.segmentation,
        run.as_of,
    )
    tables.replace(SEGMENTS, segments)
    tables.replace_snapshot("history.customer_segments", segments)
    top = segments.sort("revenue_t12m", descending=True).head(10).select(PREVIEW_COLUMNS)
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(segments),
            "as_of_date": str(run.as_of),
            "tiers": dg.MetadataValue.json(dict(segments.get_column("tier").value_counts().iter_rows())),
            "top_customers": dg.MetadataValue.md(markdown_table(top)),
        }
    )
    yield check_result(ONE_ROW_CHECK, one_row_per(segments, ["customer_id", "as_of_date"]))
    yield check_result(SHARES_CHECK, revenue_shares_sum_to_one(segments))
    expected = window_revenue(tables.invoice_days(), fx_rates, run.segmentation, run.as_of)
    yield check_result(
        RECONCILIATION_CHECK, revenue_reconciles(segments, tables.read("quality.unmapped_customers"), expected)
    )


@warehouse_asset(
    "marts.segment_summary",
    reads=[SEGMENTS],
    group_name="segmentation",
    kinds={"duckdb", "polars"},
    tags=COMPUTE_TAGS,
    description="Customers and revenue per tier at each level (GLOBAL, REGION, COUNTRY, OWNER).",
)
def segment_summary(context: dg.AssetExecutionContext, tables: Tables) -> dg.MaterializeResult:
    summary = build_segment_summary(tables.read(SEGMENTS))
    tables.replace("marts.segment_summary", summary)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(summary),
            "global": dg.MetadataValue.md(markdown_table(summary.filter(summary["level"] == "GLOBAL"))),
        }
    )
