"""KAM decisions: candidates and decisions, resource allocation, account-manager
load, the programme's return per snapshot, and tier migration
(docs/methodology.md, §K1–§K10)."""

from __future__ import annotations

import dagster as dg
import polars as pl

from assets.metadata import markdown_table
from assets.tables import Tables, warehouse_asset
from kam_pipeline.kam import (
    account_manager_load,
    capacity_gap,
    programme_return,
    resource_allocation,
    select_key_accounts,
    tier_migration,
)

SEGMENTS = "marts.customer_segments"
CANDIDATES = "marts.kam_candidates"
MANAGERS = "staging.account_managers"
KAM_ASSET = {"group_name": "kam", "kinds": {"duckdb", "polars"}, "tags": {"stage": "decide"}}
LOAD_PREVIEW = ["owner_id", "name", "role", "required_hours", "allocated_hours", "capacity_hours", "load_status"]


@warehouse_asset(
    CANDIDATES,
    reads=[SEGMENTS, MANAGERS],
    writes=["history.kam_candidates"],
    description="Every customer with a KAM decision (KEEP, ADD, REVIEW, DESELECT, WATCH, NONE), its score, "
    "eligibility and the reason with figures; KEEP + ADD never exceed the KAM team's capacity.",
    **KAM_ASSET,
)
def kam_candidates(context: dg.AssetExecutionContext, tables: Tables) -> dg.MaterializeResult:
    run = tables.settings
    candidates = select_key_accounts(tables.read(SEGMENTS), tables.read(MANAGERS), run.kam)
    tables.replace(CANDIDATES, candidates)
    tables.replace_rows("history.kam_candidates", candidates, {"as_of_date": run.as_of})
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


@warehouse_asset(
    "marts.resource_allocation",
    reads=[SEGMENTS, CANDIDATES, MANAGERS],
    description="Per customer: coverage plan, yearly account-manager and KAM hours it needs, and the hours its "
    "managers' capacity covers in priority order.",
    **KAM_ASSET,
)
def allocation(context: dg.AssetExecutionContext, tables: Tables) -> dg.MaterializeResult:
    frame = resource_allocation(
        tables.read(SEGMENTS), tables.read(CANDIDATES), tables.read(MANAGERS), tables.settings.kam
    )
    tables.replace("marts.resource_allocation", frame)
    plans = frame.group_by("plan").agg(
        customers=pl.len(),
        hours=(pl.col("am_hours") + pl.col("kam_hours")).sum(),
        uncovered=(pl.col("coverage").is_in(["PARTIAL", "UNCOVERED"])).sum(),
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(frame),
            "coverage": dg.MetadataValue.json(dict(frame.get_column("coverage").value_counts().iter_rows())),
            "plans": dg.MetadataValue.md(markdown_table(plans.sort("hours", descending=True))),
        }
    )


@warehouse_asset(
    "marts.account_manager_load",
    reads=["marts.resource_allocation", MANAGERS],
    description="Per account manager: customers, required hours against capacity, utilisation and "
    "load status (OVER, BALANCED, UNDER).",
    **KAM_ASSET,
)
def manager_load(context: dg.AssetExecutionContext, tables: Tables) -> dg.MaterializeResult:
    load = account_manager_load(tables.read("marts.resource_allocation"), tables.read(MANAGERS), tables.settings.kam)
    tables.replace("marts.account_manager_load", load)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(load),
            "load": dg.MetadataValue.md(markdown_table(load.select(LOAD_PREVIEW))),
        }
    )


@warehouse_asset(
    "marts.capacity_gap",
    reads=["marts.account_manager_load"],
    description="Hours required against capacity for the whole team, per role and per region, in hours and FTE.",
    **KAM_ASSET,
)
def gap(context: dg.AssetExecutionContext, tables: Tables) -> dg.MaterializeResult:
    frame = capacity_gap(tables.read("marts.account_manager_load"), tables.settings.kam)
    tables.replace("marts.capacity_gap", frame)
    return dg.MaterializeResult(
        metadata={"dagster/row_count": len(frame), "gap": dg.MetadataValue.md(markdown_table(frame.drop("as_of_date")))}
    )


@warehouse_asset(
    "marts.kam_programme",
    reads=[SEGMENTS, CANDIDATES, MANAGERS],
    description="One row per snapshot: key accounts and pending changes, a control group chosen on prior-period "
    "revenue, KAM cost, incremental margin and ROI (an estimate, see docs/methodology.md §K7.3).",
    **KAM_ASSET,
)
def kam_programme(context: dg.AssetExecutionContext, tables: Tables) -> dg.MaterializeResult:
    run = tables.settings
    row = programme_return(tables.read(SEGMENTS), tables.read(CANDIDATES), tables.read(MANAGERS), run.kam)
    tables.replace_rows("marts.kam_programme", row, {"as_of_date": run.as_of})
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": tables.count("marts.kam_programme"),
            "this_snapshot": dg.MetadataValue.md(markdown_table(row.transpose(include_header=True))),
        }
    )


@warehouse_asset(
    "marts.tier_migration",
    reads=[SEGMENTS, "history.customer_segments"],
    description="Customers and revenue that moved from each tier to each tier between the run's snapshot and "
    "the latest earlier snapshot in history.customer_segments.",
    **KAM_ASSET,
)
def tier_migration_matrix(context: dg.AssetExecutionContext, tables: Tables) -> dg.MaterializeResult:
    previous = tables.latest_snapshot_before("history.customer_segments", tables.settings.as_of)
    matrix = tier_migration(previous, tables.read(SEGMENTS))
    tables.replace("marts.tier_migration", matrix)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(matrix),
            "previous_as_of_date": str(previous.get_column("as_of_date").first()) if len(previous) else "none",
        }
    )
