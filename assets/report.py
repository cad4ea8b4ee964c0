"""Report: the run's charts and static HTML report, one file per as-of date
(paths.reports_dir), for readers without Dagster access. The charts are drawn
once, here, from the tables the report reads, and shown both in the HTML
file and on this asset's page in the Dagster UI."""

from __future__ import annotations

import dagster as dg
import polars as pl

from assets.metadata import chart
from assets.tables import Tables, warehouse_asset
from kam_pipeline.kam.discussion import decisions_to_discuss
from kam_pipeline.kam.scenarios import ADDED, REMOVED
from kam_pipeline.report.charts import load_chart, migration_chart, pareto_chart, tier_matrix_chart
from kam_pipeline.report.glossary import glossary
from kam_pipeline.report.html import Callout, Tiles, write_report
from kam_pipeline.report.overview import (
    by_manager,
    by_region,
    data_quality,
    decisions_by_priority,
    key_figures,
    movers,
    tier_grid,
    tier_grid_table,
)

TOP_CUSTOMERS = ["customer_id", "customer_name", "tier", "abc_class", "revenue_t12m", "revenue_share"]
TOP_CUSTOMERS_RISK = ["potential_class", "threat_level"]
OVERRIDE_COLUMNS = ["override_id", "customer_id", "action", "tier", "status", "valid_until", "approved_by", "reason"]
READINESS_FIGURES = [
    "top20_revenue_share",
    "revenue_gini",
    "score_gap",
    "wallet_coverage_a",
    "cost_coverage_a",
    "position_coverage_a",
    "am_coverage_ab",
    "at_risk_share_ab",
    "stable_pick_share",
]
COMPARISON_COLUMNS = [
    "scenario",
    "max_key_accounts",
    "key_accounts",
    "added",
    "removed",
    "key_revenue_share",
    "key_margin_share",
    "required_hours",
    "available_hours",
    "gap_fte",
    "uncovered_customers",
]
SCENARIO_COLUMNS = ["change_vs_base", "customer_id", "customer_name", "tier", "proposed_decision", "decision_reason"]
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
    reads=[
        "marts.customer_segments",
        "marts.kam_candidates",
        "marts.kam_overrides",
        "marts.kam_programme",
        "marts.kam_readiness",
        "marts.account_manager_load",
        "marts.tier_migration",
        "marts.scenario_comparison",
        "marts.scenario_candidates",
        "marts.capacity_gap",
        "history.customer_segments",
        "quality.reconciliation",
    ],
    group_name="publish",
    kinds={"html"},
    tags={"stage": "publish"},
    description="Static HTML report of the run, one file per as-of date in paths.reports_dir, for readers "
    "without Dagster access: key figures, the tier grid, programme readiness and the decisions to discuss "
    "first, then the KAM decisions by priority, movers, breakdowns by region and manager, charts, key tables, "
    "a section per what-if scenario, data quality and a glossary.",
)
def kam_report(context: dg.AssetExecutionContext, tables: Tables) -> dg.MaterializeResult:
    run = tables.settings
    this_run = pl.col("as_of_date") == run.as_of
    segments = tables.read("marts.customer_segments")
    candidates = tables.read("marts.kam_candidates")
    load = tables.read("marts.account_manager_load")
    migration = tables.read("marts.tier_migration")
    readiness = tables.read("marts.kam_readiness").filter(this_run)
    comparison = tables.read("marts.scenario_comparison")
    currency = run.segmentation.reporting_currency
    programme = tables.read("marts.kam_programme").filter(this_run)
    capacity_gap = tables.read("marts.capacity_gap")
    reconciliation = tables.read("quality.reconciliation").filter(pl.col("run_id") == tables.run_id)
    previous = tables.latest_snapshot_before("history.customer_segments", run.as_of)
    figures = key_figures(
        segments, candidates, programme, capacity_gap.filter(pl.col("level") == "TEAM"), reconciliation
    )
    discuss = decisions_to_discuss(
        candidates,
        tables.read("marts.kam_overrides"),
        programme,
        run.kam.robustness_draws,
    )
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
        "Overrides": tables.read("marts.kam_overrides").select(OVERRIDE_COLUMNS),
        "Account-manager load": load.sort("utilisation", descending=True, maintain_order=True).select(LOAD_COLUMNS),
        "Scenarios compared": comparison.select(COMPARISON_COLUMNS),
        **_scenario_sections(comparison, tables.read("marts.scenario_candidates", where=SCENARIO_CHANGES)),
        "Data quality": data_quality(reconciliation),
        "Glossary": glossary(),
    }
    path = write_report(
        run.reports_dir,
        charts,
        report_tables,
        "KAM segmentation report",
        run.as_of,
        tables.run_id,
        lead={
            "Summary": Tiles(figures.tiles(currency)),
            "Tier grid: ABC class × potential (customers · revenue)": tier_grid_table(tier_grid(segments), currency),
            "Programme readiness": _verdict(readiness),
            "Readiness figures": readiness.select(READINESS_FIGURES),
            "Decisions to discuss": discuss,
            "KAM decisions by priority": decisions_by_priority(candidates, segments),
            "Movers": movers(segments, previous)
            if previous.height
            else Callout("No earlier snapshot: tier changes show from the next as-of date on."),
            "By region": by_region(segments, candidates, capacity_gap),
            "By account manager": by_manager(segments, candidates, load),
        },
        currency=currency,
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "url": dg.MetadataValue.url(run.link(path)),
            "decisions_to_discuss": len(discuss),
            **{f"chart: {title}": chart(png, title) for title, png in charts.items()},
        }
    )


def _verdict(readiness: pl.DataFrame) -> Callout:
    if readiness.is_empty():
        return Callout("No readiness verdict for this as-of date.")
    row = readiness.row(0, named=True)
    return Callout(f"Verdict: {row['verdict']}", tuple(row["verdict_reasons"].split("; ")))


#: The rows of marts.scenario_candidates the report shows: a few of a million at 1 M customers, read alone.
SCENARIO_CHANGES = f"change_vs_base IN ('{ADDED}', '{REMOVED}')"


def _scenario_sections(comparison: pl.DataFrame, changes: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """One table per scenario: the customers whose key-account status it
    changes (`changes`: the SCENARIO_CHANGES rows of marts.scenario_candidates)."""
    sections = {}
    for scenario in comparison.filter(pl.col("scenario") != "base").iter_rows(named=True):
        changed = changes.filter(pl.col("scenario") == scenario["scenario"])
        title = f"Scenario {scenario['scenario']}: {scenario['description'] or scenario['changes']}"
        sections[title] = changed.sort("change_vs_base", "customer_id").select(SCENARIO_COLUMNS)
    return sections
