"""Quality: revenue the segmentation cannot see (unmapped ERP customers), and
the Great Expectations Data Docs of the run's validations."""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from assets.metadata import markdown_table
from assets.resources import SettingsResource
from assets.staging import STAGING_ASSETS
from assets.tables import Tables, warehouse_asset
from kam_pipeline.ingest.expectations import build_data_docs
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


@dg.asset(
    key=["reports", "data_docs"],
    deps=[key for staging in STAGING_ASSETS for key in staging.keys],
    group_name="quality",
    kinds={"html"},
    tags={"stage": "validate"},
    description="Great Expectations Data Docs of the extracts this run validated, rendered once after every "
    "staging asset (each rebuild renders every page, so one per extract cost a rebuild of the earlier ones). "
    "The staging assets' checks link to them.",
)
def data_docs(context: dg.AssetExecutionContext, settings: SettingsResource) -> dg.MaterializeResult:
    run = settings.resolved
    index = build_data_docs(run.run_data_docs_dir(context.run.run_id))
    if index is None:
        context.log.info("no extract was validated in this run: each links to the Data Docs of the run that did")
        return dg.MaterializeResult(metadata={"validated_in_this_run": False})
    return dg.MaterializeResult(
        metadata={"validated_in_this_run": True, "data_docs": dg.MetadataValue.url(run.link(index))}
    )
