"""KAM assets: candidates and decisions, resource allocation and load, the
programme's return per snapshot, and tier migration (docs/methodology.md, §K1–§K10)."""

import dagster as dg
import polars as pl
from kam_pipeline.assets.metadata import chart, markdown_table
from kam_pipeline.assets.resources import SettingsResource

from kam_pipeline.kam import allocate_resources, programme_return, select_key_accounts, tier_migration
from kam_pipeline.report.charts import load_chart, migration_chart
from kam_pipeline.warehouse import database as warehouse

SEGMENTS = dg.AssetKey(["marts", "customer_segments"])
CANDIDATES = dg.AssetKey(["marts", "kam_candidates"])
MANAGERS = dg.AssetKey(["staging", "account_managers"])
KAM_TAGS = {"stage": "decide"}
LOAD_PREVIEW = ["owner_id", "name", "role", "required_hours", "capacity_hours", "load_status"]


def _snapshot_inputs(con) -> tuple[pl.DataFrame, pl.DataFrame]:
    return warehouse.read_table(con, "marts.customer_segments"), warehouse.read_table(con, "staging.account_managers")


@dg.asset(
    key=CANDIDATES,
    group_name="kam",
    deps=[SEGMENTS, MANAGERS],
    kinds={"duckdb", "polars"},
    tags=KAM_TAGS,
    description="Every customer with a KAM decision (KEEP, ADD, REVIEW, DESELECT, WATCH, NONE), its score, "
    "eligibility and the reason with figures; KEEP + ADD never exceed the KAM team's capacity.",
)
def kam_candidates(settings: SettingsResource) -> dg.MaterializeResult:
    run = settings.load()
    with warehouse.open_work(run) as con:
        segments, managers = _snapshot_inputs(con)
        candidates = select_key_accounts(segments, managers, run.kam)
        warehouse.replace_table(con, "marts.kam_candidates", candidates)
        warehouse.replace_rows(con, "history.kam_candidates", candidates, {"as_of_date": run.as_of})
    decided = candidates.filter(pl.col("decision") != "NONE").sort("selection_rank", nulls_last=True)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(candidates),
            "decisions": dg.MetadataValue.json(dict(candidates.get_column("decision").value_counts().iter_rows())),
            "decided": dg.MetadataValue.md(
                markdown_table(decided.select("customer_id", "customer_name", "decision", "score", "decision_reason"))
            ),
        }
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["marts", "resource_allocation"],
            group_name="kam",
            deps=[SEGMENTS, CANDIDATES],
            kinds={"duckdb", "polars"},
            tags=KAM_TAGS,
            description="Yearly account-manager and KAM hours per customer, by tier and KAM decision.",
        ),
        dg.AssetSpec(
            ["marts", "account_manager_load"],
            group_name="kam",
            deps=[MANAGERS, CANDIDATES],
            kinds={"duckdb", "polars"},
            tags=KAM_TAGS,
            description="Per account manager: customers, required hours against capacity, utilisation and "
            "load status (OVER, BALANCED, UNDER).",
        ),
    ]
)
def resource_allocation(settings: SettingsResource):
    run = settings.load()
    with warehouse.open_work(run) as con:
        segments, managers = _snapshot_inputs(con)
        candidates = warehouse.read_table(con, "marts.kam_candidates")
        allocation, load = allocate_resources(segments, candidates, managers, run.kam)
        warehouse.replace_table(con, "marts.resource_allocation", allocation)
        warehouse.replace_table(con, "marts.account_manager_load", load)
    yield dg.MaterializeResult(
        asset_key=["marts", "resource_allocation"],
        metadata={"dagster/row_count": len(allocation)},
    )
    yield dg.MaterializeResult(
        asset_key=["marts", "account_manager_load"],
        metadata={
            "dagster/row_count": len(load),
            "load": dg.MetadataValue.md(markdown_table(load.select(LOAD_PREVIEW))),
            "load_chart": chart(load_chart(load), run.chart_path("load"), "Load against capacity"),
        },
    )


@dg.asset(
    key=["marts", "kam_programme"],
    group_name="kam",
    deps=[SEGMENTS, CANDIDATES, MANAGERS],
    kinds={"duckdb", "polars"},
    tags=KAM_TAGS,
    description="One row per snapshot: key accounts against a control group of non-key A customers, KAM cost, "
    "incremental margin and ROI (an estimate, see docs/methodology.md §K7.3 for what it does not prove).",
)
def kam_programme(settings: SettingsResource) -> dg.MaterializeResult:
    run = settings.load()
    with warehouse.open_work(run) as con:
        segments, managers = _snapshot_inputs(con)
        candidates = warehouse.read_table(con, "marts.kam_candidates")
        row = programme_return(segments, candidates, managers, run.kam)
        warehouse.replace_rows(con, "marts.kam_programme", row, {"as_of_date": run.as_of})
        snapshots = con.execute("SELECT count(*) FROM marts.kam_programme").fetchone()[0]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": snapshots,
            "this_snapshot": dg.MetadataValue.md(markdown_table(row.transpose(include_header=True))),
        }
    )


@dg.asset(
    key=["marts", "tier_migration"],
    group_name="kam",
    deps=[SEGMENTS],
    kinds={"duckdb", "polars"},
    tags=KAM_TAGS,
    description="Customers and revenue that moved from each tier to each tier between the run's snapshot and "
    "the latest earlier snapshot in history.customer_segments.",
)
def tier_migration_matrix(settings: SettingsResource) -> dg.MaterializeResult:
    run = settings.load()
    with warehouse.open_work(run) as con:
        current = warehouse.read_table(con, "marts.customer_segments")
        previous = con.sql(
            "SELECT * FROM history.customer_segments WHERE as_of_date = "
            "(SELECT max(as_of_date) FROM history.customer_segments WHERE as_of_date < $as_of)",
            params={"as_of": run.as_of},
        ).pl()
        matrix = tier_migration(previous, current)
        warehouse.replace_table(con, "marts.tier_migration", matrix)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(matrix),
            "previous_as_of_date": str(previous.get_column("as_of_date").first()) if len(previous) else "none",
            "migration_chart": chart(migration_chart(matrix), run.chart_path("migration"), "Tier migration"),
        }
    )
