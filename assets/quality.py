"""Quality assets: revenue the segmentation cannot see (unmapped ERP customers)."""

import dagster as dg
import polars as pl
from kam_pipeline.assets.metadata import markdown_table
from kam_pipeline.assets.resources import SettingsResource

from kam_pipeline.ingest.staging import invoice_days
from kam_pipeline.segmentation.unmapped import unmapped_customers
from kam_pipeline.warehouse import database as warehouse

UNMAPPED_CHECK = "unmapped_revenue_share"


@dg.asset(
    key=["quality", "unmapped_customers"],
    group_name="quality",
    deps=[["staging", "invoice_lines"], ["staging", "erp_customers"], ["staging", "fx_rates"]],
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
def quality_unmapped_customers(settings: SettingsResource):
    run = settings.load()
    with warehouse.open_work(run) as con:
        customers = warehouse.read_table(con, "staging.erp_customers")
        fx_rates = warehouse.read_table(con, "staging.fx_rates")
        report, share = unmapped_customers(
            invoice_days(con, run),
            customers,
            fx_rates,
            run.segmentation,
            run.as_of,
        )
        warehouse.replace_table(con, "quality.unmapped_customers", report)
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
