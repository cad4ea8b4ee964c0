"""Segmentation assets: marts.customer_segments, marts.segment_summary and
the history snapshot of the segments (docs/methodology.md)."""

import dagster as dg
from kam_pipeline.assets.metadata import chart, markdown_table
from kam_pipeline.assets.resources import SettingsResource

from kam_pipeline.ingest.staging import invoice_days
from kam_pipeline.report.charts import pareto_chart, tier_matrix_chart
from kam_pipeline.segmentation import build_customer_segments, build_segment_summary
from kam_pipeline.warehouse import database as warehouse

SEGMENTS = dg.AssetKey(["marts", "customer_segments"])
SEGMENT_INPUTS = ["invoice_lines", "erp_customers", "crm_accounts", "fx_rates", "opportunities"]
PREVIEW_COLUMNS = ["customer_id", "customer_name", "tier", "abc_class", "revenue_t12m", "revenue_share", "trend"]


@dg.asset(
    key=SEGMENTS,
    group_name="segmentation",
    deps=[["staging", name] for name in SEGMENT_INPUTS],
    kinds={"duckdb", "polars"},
    tags={"stage": "compute"},
    description="One row per customer (account group) for the run's as-of date: revenue and margin over the "
    "trailing window, Pareto share and ABC classes at company, region, country and portfolio level, growth, "
    "potential, threat and tier with the reason.",
)
def customer_segments(settings: SettingsResource) -> dg.MaterializeResult:
    run = settings.load()
    with warehouse.open_work(run) as con:
        segments = build_customer_segments(
            invoice_days(con, run),
            warehouse.read_table(con, "staging.erp_customers"),
            warehouse.read_table(con, "staging.crm_accounts"),
            warehouse.read_table(con, "staging.fx_rates"),
            warehouse.read_table(con, "staging.opportunities"),
            run.segmentation,
            run.as_of,
        )
        warehouse.replace_table(con, "marts.customer_segments", segments)
        warehouse.replace_rows(con, "history.customer_segments", segments, {"as_of_date": run.as_of})
    top = segments.sort("revenue_t12m", descending=True).head(10).select(PREVIEW_COLUMNS)
    cuts, currency = (run.segmentation.abc_a_cut, run.segmentation.abc_b_cut), run.segmentation.reporting_currency
    return dg.MaterializeResult(
        metadata={
            "pareto_chart": chart(pareto_chart(segments, *cuts, currency=currency), run.chart_path("pareto"), "Pareto"),
            "tier_matrix": chart(
                tier_matrix_chart(segments, currency=currency), run.chart_path("tier_matrix"), "Tier matrix"
            ),
            "dagster/row_count": len(segments),
            "as_of_date": str(run.as_of),
            "tiers": dg.MetadataValue.json(dict(segments.get_column("tier").value_counts().iter_rows())),
            "top_customers": dg.MetadataValue.md(markdown_table(top)),
        }
    )


@dg.asset(
    key=["marts", "segment_summary"],
    group_name="segmentation",
    deps=[SEGMENTS],
    kinds={"duckdb", "polars"},
    tags={"stage": "compute"},
    description="Customers and revenue per tier at each level (GLOBAL, REGION, COUNTRY, OWNER).",
)
def segment_summary(settings: SettingsResource) -> dg.MaterializeResult:
    run = settings.load()
    with warehouse.open_work(run) as con:
        summary = build_segment_summary(warehouse.read_table(con, "marts.customer_segments"))
        warehouse.replace_table(con, "marts.segment_summary", summary)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(summary),
            "global": dg.MetadataValue.md(markdown_table(summary.filter(summary["level"] == "GLOBAL"))),
        }
    )
