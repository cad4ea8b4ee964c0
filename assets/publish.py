"""Publish: the warehouse file BI tools read, swapped in atomically."""

from datetime import UTC, datetime

import dagster as dg
import polars as pl

from assets.metadata import markdown_table
from assets.nightly import PUBLISHED_TAG
from assets.resources import SettingsResource
from assets.tables import PUBLISHED, upstream
from kam_pipeline.errors import ExtractError
from kam_pipeline.ingest.contract import EXTRACTS
from kam_pipeline.ingest.parse_cache import check_in_place
from kam_pipeline.warehouse.publish import DiskFullError, RunRecord, publish
from kam_pipeline.warehouse.schema import declared_tables


@dg.asset(
    key=PUBLISHED,
    # Every table declared in sql/ is copied: the publish step reads them all.
    deps=upstream(declared_tables(), PUBLISHED),
    group_name="publish",
    kinds={"duckdb"},
    tags={"stage": "publish"},
    description="The DuckDB file BI tools read (KAM_WAREHOUSE_PATH): the tables declared in sql/ filled from the "
    "working database, the run log and the bi views, built in a temporary file and swapped in atomically.",
)
def published_warehouse(context: dg.AssetExecutionContext, settings: SettingsResource) -> dg.MaterializeResult:
    run = settings.resolved
    stats = context.instance.get_run_stats(context.run.run_id)
    started = datetime.fromtimestamp(stats.start_time, UTC) if stats.start_time else datetime.now(UTC)
    record = RunRecord(context.run.run_id, run.as_of, started, datetime.now(UTC), run.segmentation.reporting_currency)

    def committed() -> None:  # the swap happened: the run's outcome is "published", whatever comes next
        context.instance.add_run_tags(record.run_id, {PUBLISHED_TAG: "true"})

    try:
        for extract in EXTRACTS:  # what was validated is what gets published
            check_in_place(run.parsed_dir(extract.name))
        report = publish(
            run.work_db, run.warehouse_path, record, run.performance.duckdb_memory_limit, on_commit=committed
        )
    except (DiskFullError, ExtractError) as exc:
        raise dg.Failure(description=str(exc)) from None
    if report.missing:
        context.log.warning(f"published empty (not materialised yet): {', '.join(report.missing)}")
    counts = pl.DataFrame({"table": list(report.tables), "rows": list(report.tables.values())})
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(report.path)),
            "tables": dg.MetadataValue.md(markdown_table(counts)),
            "dagster/row_count": int(counts.get_column("rows").sum()) if len(counts) else 0,
            "rejected_rows": report.run_row["rejected_rows"],
            "carried_over_unchanged": dg.MetadataValue.json(report.kept),
            "refreshed_in_part": dg.MetadataValue.json(report.refreshed),
        }
    )
