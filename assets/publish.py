"""Publish asset: the warehouse file BI tools read, swapped in atomically."""

import dagster as dg
import polars as pl

from kam_pipeline.contract import EXTRACTS
from kam_pipeline.metadata import markdown_table
from kam_pipeline.publish import publish
from kam_pipeline.resources import SettingsResource, WarehouseResource


@dg.asset(
    key=["warehouse", "published"],
    group_name="publish",
    deps=[
        *[["staging", e.name] for e in EXTRACTS],
        ["quality", "unmapped_customers"],
        ["marts", "segment_summary"],
        ["marts", "kam_candidates"],
        ["marts", "resource_allocation"],
        ["marts", "account_manager_load"],
        ["marts", "kam_programme"],
        ["marts", "tier_migration"],
    ],
    kinds={"duckdb"},
    tags={"stage": "publish"},
    description="The DuckDB file BI tools read (KAM_WAREHOUSE_PATH): every table of the working database, "
    "the sql/ views and comments, built in a temporary file and swapped in atomically.",
)
def published_warehouse(context: dg.AssetExecutionContext, settings: SettingsResource, work_db: WarehouseResource):
    run = settings.load()
    report = publish(work_db.path(), run.warehouse_path, context.run.run_id)
    counts = pl.DataFrame({"table": list(report.tables), "rows": list(report.tables.values())})
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(report.path)),
            "tables": dg.MetadataValue.md(markdown_table(counts)),
            "dagster/row_count": int(counts.get_column("rows").sum()) if len(counts) else 0,
        }
    )
