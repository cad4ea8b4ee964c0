"""The run's static HTML report: the marts' charts and key tables in one file
for people without Dagster access (paths.reports_dir)."""

import dagster as dg
import polars as pl
from kam_pipeline.assets.resources import SettingsResource

from kam_pipeline.report.html import write_report
from kam_pipeline.warehouse import database as warehouse

CHARTS = {
    "pareto": "Revenue concentration",
    "tier_matrix": "Tier matrix",
    "load": "Load",
    "migration": "Tier migration",
}
TOP_CUSTOMERS = """
SELECT customer_id, customer_name, tier, abc_class, revenue_t12m, revenue_share, potential_class, threat_level
FROM marts.customer_segments WHERE revenue_t12m > 0 ORDER BY revenue_t12m DESC LIMIT 25
"""
DECISIONS = """
SELECT decision, customer_id, customer_name, score, selection_rank, decision_reason
FROM marts.kam_candidates WHERE decision <> 'NONE' ORDER BY decision, selection_rank NULLS LAST, customer_id
"""
LOAD = """
SELECT owner_id, name, role, region, customers, required_hours, capacity_hours, utilisation, load_status
FROM marts.account_manager_load ORDER BY utilisation DESC
"""


@dg.asset(
    key=["reports", "kam_report"],
    group_name="publish",
    deps=[["marts", "customer_segments"], ["marts", "account_manager_load"], ["marts", "tier_migration"]],
    kinds={"html"},
    tags={"stage": "publish"},
    description="Static HTML report of the run (charts and key tables), one file per as-of date in "
    "paths.reports_dir, for readers without Dagster access.",
)
def kam_report(context: dg.AssetExecutionContext, settings: SettingsResource) -> dg.MaterializeResult:
    run = settings.load()
    charts = {title: run.chart_path(name).read_bytes() for name, title in CHARTS.items()}
    with warehouse.open_work(run) as con:
        tables: dict[str, pl.DataFrame] = {
            "Top customers": con.sql(TOP_CUSTOMERS).pl(),
            "KAM decisions": con.sql(DECISIONS).pl(),
            "Account-manager load": con.sql(LOAD).pl(),
        }
    path = write_report(run.reports_dir, charts, tables, "KAM segmentation report", run.as_of, context.run.run_id)
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(path)), "url": dg.MetadataValue.url(path.as_uri())}
    )
