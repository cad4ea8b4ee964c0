"""Report: the run's charts and static HTML report, one file per as-of date
(paths.reports_dir), for readers without Dagster access. The charts are drawn
once, here, from the tables the report reads, and shown both in the HTML
file and on this asset's page in the Dagster UI."""

from __future__ import annotations

import dagster as dg
import polars as pl

from assets.metadata import chart
from assets.tables import Tables, warehouse_asset
from kam_pipeline.report.charts import load_chart, migration_chart, pareto_chart, tier_matrix_chart
from kam_pipeline.report.html import write_report

TOP_CUSTOMERS = ["customer_id", "customer_name", "tier", "abc_class", "revenue_t12m", "revenue_share"]
TOP_CUSTOMERS_RISK = ["potential_class", "threat_level"]
DECISION_COLUMNS = ["decision", "customer_id", "customer_name", "score", "selection_rank", "decision_reason"]
LOAD_COLUMNS = [
    "owner_id",
    "name",
    "role",
    "region",
    "customers",
    "required_hours",
    "capacity_hours",
    "utilisation",
    "load_status",
]


@warehouse_asset(
    ["reports", "kam_report"],
    reads=["marts.customer_segments", "marts.kam_candidates", "marts.account_manager_load", "marts.tier_migration"],
    group_name="publish",
    kinds={"html"},
    tags={"stage": "publish"},
    description="Static HTML report of the run (charts and key tables), one file per as-of date in "
    "paths.reports_dir, for readers without Dagster access.",
)
def kam_report(context: dg.AssetExecutionContext, tables: Tables) -> dg.MaterializeResult:
    run = tables.settings
    segments = tables.read("marts.customer_segments")
    candidates = tables.read("marts.kam_candidates")
    load = tables.read("marts.account_manager_load")
    migration = tables.read("marts.tier_migration")
    currency = run.segmentation.reporting_currency
    charts = {
        "Revenue concentration": pareto_chart(
            segments, run.segmentation.abc_a_cut, run.segmentation.abc_b_cut, currency=currency
        ),
        "Tier matrix": tier_matrix_chart(segments, currency=currency),
        "Load": load_chart(load),
        "Tier migration": migration_chart(migration),
    }
    report_tables = {
        "Top customers": segments.filter(pl.col("revenue_t12m") > 0)
        .sort("revenue_t12m", descending=True)
        .head(25)
        .select(*TOP_CUSTOMERS, *TOP_CUSTOMERS_RISK),
        "KAM decisions": candidates.filter(pl.col("decision") != "NONE")
        .sort("decision", "selection_rank", "customer_id", nulls_last=True)
        .select(DECISION_COLUMNS),
        "Account-manager load": load.sort("utilisation", descending=True, maintain_order=True).select(LOAD_COLUMNS),
    }
    path = write_report(run.reports_dir, charts, report_tables, "KAM segmentation report", run.as_of, tables.run_id)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "url": dg.MetadataValue.url(path.as_uri()),
            **{f"chart: {title}": chart(png, title) for title, png in charts.items()},
        }
    )
