"""KAM decisions: candidates and decisions, the committee's overrides, resource
allocation, account-manager load, the programme's return per snapshot, and
tier migration (docs/methodology.md, §K1–§K10)."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import polars as pl

from assets.metadata import check_result, markdown_table
from assets.tables import Tables, asset_key, warehouse_asset
from kam_pipeline.kam import (
    account_manager_load,
    capacity_gap,
    programme_return,
    resource_allocation,
    select_key_accounts,
    tier_migration,
)
from kam_pipeline.kam.allocation import ALLOCATION_READS
from kam_pipeline.kam.candidates import SELECTION_READS
from kam_pipeline.kam.checks import SEATS_CHECK_READS, allocated_within_capacity, key_accounts_within_seats
from kam_pipeline.kam.migration import MIGRATION_READS
from kam_pipeline.kam.overrides import (
    CONFLICT,
    FINAL_STATUS_READS,
    final_status,
    forced_selection,
    forced_tiers,
    override_status,
)
from kam_pipeline.kam.programme import PROGRAMME_READS
from kam_pipeline.kam.readiness import READINESS_READS, programme_readiness
from kam_pipeline.kam.scenarios import PlanInputs, run_scenarios
from kam_pipeline.kam.tables import SCENARIO_CANDIDATES
from kam_pipeline.segmentation.checks import one_row_per
from kam_pipeline.segmentation.customer_unit import HIERARCHY_COLUMNS
from kam_pipeline.segmentation.segments import SEGMENTATION_READS

SEGMENTS = "marts.customer_segments"
CANDIDATES = "marts.kam_candidates"
MANAGERS = "staging.account_managers"
OVERRIDES = "marts.kam_overrides"
ALLOCATION = "marts.resource_allocation"
LOAD = "marts.account_manager_load"
OVERRIDE_INPUTS = ["staging.kam_overrides", "staging.crm_accounts"]
OVERRIDES_CHECK = "overrides_need_attention"
CAPACITY_CHECK = "includes_within_capacity"
KAM_ASSET = {"group_name": "kam", "kinds": {"duckdb", "polars"}, "tags": {"stage": "decide"}}
#: One row per customer and as-of date: a duplicate would double every sum a BI tool makes (blocking).
ONE_ROW = "one_row_per_customer"
ONE_ROW_DESCRIPTION = "One row per customer_id and as_of_date: a duplicate would double every sum a BI tool makes."
ONE_CANDIDATE_CHECK = dg.AssetCheckSpec(
    ONE_ROW, asset=asset_key(CANDIDATES), blocking=True, description=ONE_ROW_DESCRIPTION
)
ONE_ALLOCATION_CHECK = dg.AssetCheckSpec(
    ONE_ROW, asset=asset_key(ALLOCATION), blocking=True, description=ONE_ROW_DESCRIPTION
)
SEATS_CHECK = dg.AssetCheckSpec(
    "keep_add_within_seats",
    asset=["marts", "kam_programme"],
    blocking=True,
    description="KEEP + ADD of marts.kam_candidates fit max_key_accounts: the proposal always, what holds now "
    "unless incumbents stand between reviews, both unless INCLUDE overrides alone exceed the seats "
    "(docs/methodology.md §K4, §K5.2, §K5.3, §K5.8).",
)
HOURS_CHECK = dg.AssetCheckSpec(
    "allocated_within_capacity",
    asset=asset_key(LOAD),
    description="Warns when a manager is allocated more hours than its capacity_hours, or a customer more than "
    "its plan requires (docs/methodology.md §K6.3).",
)
LOAD_PREVIEW = ["owner_id", "name", "role", "required_hours", "allocated_hours", "capacity_hours", "load_status"]


def _overrides_in_force(tables: Tables) -> pl.DataFrame:
    """The committee's overrides with their status on the run's as-of date (kam.overrides)."""
    hierarchy = tables.read("staging.crm_accounts", HIERARCHY_COLUMNS)
    return override_status(tables.read("staging.kam_overrides"), hierarchy, tables.settings)


@warehouse_asset(
    CANDIDATES,
    reads=[SEGMENTS, MANAGERS, *OVERRIDE_INPUTS],
    writes=["history.kam_candidates"],
    description="Every customer with a KAM decision (KEEP, ADD, REVIEW, DESELECT, WATCH, NONE), its source "
    "(RULE or OVERRIDE), score and the points of each factor, eligibility, how stable the selection is under "
    "small changes of the weights, and the reason with figures; KEEP + ADD stay within the KAM team's capacity "
    "unless INCLUDE overrides alone exceed it.",
    check_specs=[ONE_CANDIDATE_CHECK],
    **KAM_ASSET,
)
def kam_candidates(
    context: dg.AssetExecutionContext, tables: Tables
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    run = tables.settings
    candidates = select_key_accounts(
        tables.read(SEGMENTS, SELECTION_READS["segments"]),
        tables.read(MANAGERS),
        run.kam,
        overrides=forced_selection(_overrides_in_force(tables)),
        currency=run.segmentation.reporting_currency,
    )
    tables.replace(CANDIDATES, candidates)
    tables.replace_snapshot("history.kam_candidates", candidates)
    decided = candidates.filter(pl.col("decision") != "NONE").sort("selection_rank", nulls_last=True)
    discuss = candidates.filter(pl.col("marginal") | (pl.col("decision_source") == "OVERRIDE"))
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(candidates),
            "decisions": dg.MetadataValue.json(_counts(candidates, "decision")),
            "decision_source": dg.MetadataValue.json(_counts(candidates, "decision_source")),
            "marginal_decisions": int(candidates.get_column("marginal").sum()),
            "decided": dg.MetadataValue.md(
                markdown_table(
                    decided.select(
                        "customer_id", "customer_name", "decision", "score", "selection_stability", "decision_reason"
                    )
                )
            ),
            "to_discuss": dg.MetadataValue.md(
                markdown_table(
                    discuss.select("customer_id", "customer_name", "decision", "decision_source", "selection_stability")
                )
            ),
        }
    )
    yield check_result(ONE_CANDIDATE_CHECK, one_row_per(candidates, ["customer_id", "as_of_date"]))


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    return {str(k): int(v) for k, v in frame.get_column(column).value_counts().iter_rows()}


@warehouse_asset(
    OVERRIDES,
    reads=[*OVERRIDE_INPUTS, SEGMENTS, CANDIDATES],
    description="Every override of the KAM committee with its status on the as-of date: APPLIED, EXPIRED, "
    "NOT_YET_VALID, CONFLICT or NO_EFFECT, and whether it expires soon.",
    check_specs=[
        dg.AssetCheckSpec(
            OVERRIDES_CHECK,
            asset=OVERRIDES.split("."),
            description="Warns on overrides in conflict and on overrides that expire within kam.override_expiry_days.",
        )
    ],
    **KAM_ASSET,
)
def kam_overrides(
    context: dg.AssetExecutionContext, tables: Tables
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    overrides = final_status(
        _overrides_in_force(tables),
        tables.read(CANDIDATES, FINAL_STATUS_READS["candidates"]),
        tables.read(SEGMENTS, FINAL_STATUS_READS["segments"]),
    )
    tables.replace(OVERRIDES, overrides)
    shown = ["override_id", "customer_id", "action", "status", "valid_until", "status_reason"]
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(overrides),
            "status": dg.MetadataValue.json(_counts(overrides, "status")),
            "overrides": dg.MetadataValue.md(markdown_table(overrides.select(shown))),
        }
    )
    attention = overrides.filter((pl.col("status") == CONFLICT) | pl.col("expires_soon"))
    yield dg.AssetCheckResult(
        check_name=OVERRIDES_CHECK,
        passed=attention.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{int((overrides['status'] == CONFLICT).sum())} in conflict, "
        f"{int(overrides['expires_soon'].sum())} expiring soon",
        metadata={"overrides": dg.MetadataValue.md(markdown_table(attention.select(shown)))},
    )


@warehouse_asset(
    ALLOCATION,
    reads=[SEGMENTS, CANDIDATES, MANAGERS, OVERRIDES],
    description="Per customer: coverage plan, yearly account-manager and KAM hours it needs, and the hours its "
    "managers' capacity covers in priority order.",
    check_specs=[ONE_ALLOCATION_CHECK],
    **KAM_ASSET,
)
def allocation(
    context: dg.AssetExecutionContext, tables: Tables
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    frame = resource_allocation(
        tables.read(SEGMENTS, ALLOCATION_READS["segments"]),
        tables.read(CANDIDATES, ALLOCATION_READS["candidates"]),
        tables.read(MANAGERS),
        tables.settings.kam,
        tiers=forced_tiers(tables.read(OVERRIDES)),
    )
    tables.replace(ALLOCATION, frame)
    plans = frame.group_by("plan").agg(
        customers=pl.len(),
        hours=(pl.col("am_hours") + pl.col("kam_hours")).sum(),
        uncovered=(pl.col("coverage").is_in(["PARTIAL", "UNCOVERED"])).sum(),
    )
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(frame),
            "coverage": dg.MetadataValue.json(dict(frame.get_column("coverage").value_counts().iter_rows())),
            "plans": dg.MetadataValue.md(markdown_table(plans.sort("hours", descending=True))),
        }
    )
    yield check_result(ONE_ALLOCATION_CHECK, one_row_per(frame, ["customer_id", "as_of_date"]))


@warehouse_asset(
    LOAD,
    reads=[ALLOCATION, MANAGERS],
    description="Per account manager: customers, required hours against capacity, utilisation and "
    "load status (OVER, BALANCED, UNDER).",
    check_specs=[HOURS_CHECK],
    **KAM_ASSET,
)
def manager_load(
    context: dg.AssetExecutionContext, tables: Tables
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    frame = tables.read(ALLOCATION)
    load = account_manager_load(frame, tables.read(MANAGERS), tables.settings.kam)
    tables.replace(LOAD, load)
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(load),
            "load": dg.MetadataValue.md(markdown_table(load.select(LOAD_PREVIEW))),
        }
    )
    yield check_result(HOURS_CHECK, allocated_within_capacity(load, frame))


@warehouse_asset(
    "marts.capacity_gap",
    reads=[LOAD],
    description="Hours required against capacity for the whole team, per role and per region, in hours and FTE.",
    **KAM_ASSET,
)
def gap(context: dg.AssetExecutionContext, tables: Tables) -> dg.MaterializeResult:
    frame = capacity_gap(tables.read(LOAD), tables.settings.kam)
    tables.replace("marts.capacity_gap", frame)
    return dg.MaterializeResult(
        metadata={"dagster/row_count": len(frame), "gap": dg.MetadataValue.md(markdown_table(frame.drop("as_of_date")))}
    )


@warehouse_asset(
    "marts.kam_programme",
    reads=[SEGMENTS, CANDIDATES, MANAGERS],
    description="One row per snapshot: key accounts and pending changes, a control group chosen on prior-period "
    "revenue, KAM cost, incremental margin and ROI (an estimate, see docs/methodology.md §K7.3).",
    check_specs=[
        dg.AssetCheckSpec(
            CAPACITY_CHECK,
            asset=["marts", "kam_programme"],
            description="Warns when INCLUDE overrides alone exceed the seats (OVER_CAPACITY).",
        ),
        SEATS_CHECK,
    ],
    **KAM_ASSET,
)
def kam_programme(
    context: dg.AssetExecutionContext, tables: Tables
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    run = tables.settings
    candidates = tables.read(CANDIDATES, sorted({*PROGRAMME_READS["candidates"], *SEATS_CHECK_READS}))
    row = programme_return(
        tables.read(SEGMENTS, PROGRAMME_READS["segments"]), candidates, tables.read(MANAGERS), run.kam
    )
    tables.replace_rows("marts.kam_programme", row, {"as_of_date": run.as_of})
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": tables.count("marts.kam_programme"),
            "this_snapshot": dg.MetadataValue.md(markdown_table(row.transpose(include_header=True))),
        }
    )
    facts = row.row(0, named=True)
    yield dg.AssetCheckResult(
        check_name=CAPACITY_CHECK,
        passed=not facts["over_capacity"],
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{facts['override_includes']} INCLUDE overrides for {facts['max_key_accounts']} seats",
    )
    yield check_result(SEATS_CHECK, key_accounts_within_seats(candidates, facts["max_key_accounts"]))


@warehouse_asset(
    "marts.tier_migration",
    reads=[SEGMENTS, "history.customer_segments"],
    description="Customers and revenue that moved from each tier to each tier between the run's snapshot and "
    "the latest earlier snapshot in history.customer_segments.",
    **KAM_ASSET,
)
def tier_migration_matrix(context: dg.AssetExecutionContext, tables: Tables) -> dg.MaterializeResult:
    previous = tables.latest_snapshot_before(
        "history.customer_segments", tables.settings.as_of, MIGRATION_READS["previous"]
    )
    matrix = tier_migration(previous, tables.read(SEGMENTS, MIGRATION_READS["current"]))
    tables.replace("marts.tier_migration", matrix)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(matrix),
            "previous_as_of_date": str(previous.get_column("as_of_date").first()) if len(previous) else "none",
        }
    )


@warehouse_asset(
    "marts.scenario_comparison",
    reads=[
        "staging.invoice_lines",
        "staging.erp_customers",
        "staging.crm_accounts",
        "staging.fx_rates",
        "staging.opportunities",
        MANAGERS,
        "staging.kam_overrides",
        SEGMENTS,
        CANDIDATES,
        OVERRIDES,
    ],
    writes=["marts.scenario_candidates"],
    description="What-if scenarios of the settings file ([scenarios.<name>]) computed from the same staged data: "
    "every customer's decisions and hours per scenario (marts.scenario_candidates) and one comparison row per "
    "scenario against the base plan (key accounts, revenue and margin covered, hours against capacity, tiers, "
    "added / removed / unchanged).",
    **KAM_ASSET,
)
def scenario_comparison(context: dg.AssetExecutionContext, tables: Tables) -> dg.MaterializeResult:
    run = tables.settings
    inputs = PlanInputs(
        lines=tables.invoice_days(),
        erp_customers=tables.scan("staging.erp_customers", SEGMENTATION_READS["erp_customers"]),
        accounts=tables.scan("staging.crm_accounts", SEGMENTATION_READS["accounts"]),
        hierarchy=tables.read("staging.crm_accounts", HIERARCHY_COLUMNS),
        fx_rates=tables.scan("staging.fx_rates", SEGMENTATION_READS["fx_rates"]),
        opportunities=tables.scan("staging.opportunities", SEGMENTATION_READS["opportunities"]),
        managers=tables.read(MANAGERS),
        overrides=tables.read("staging.kam_overrides"),
    )
    tables.replace("marts.scenario_candidates", SCENARIO_CANDIDATES.empty())
    comparison = run_scenarios(
        inputs,
        tables.read(SEGMENTS),
        tables.read(CANDIDATES),  # not kept here: run_scenarios releases it after the base plan
        forced_tiers(tables.read(OVERRIDES)),
        run,
        lambda rows: tables.append("marts.scenario_candidates", rows),
    )
    tables.replace("marts.scenario_comparison", comparison)
    shown = ["scenario", "key_accounts", "added", "removed", "key_revenue_share", "gap_fte", "uncovered_customers"]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(comparison),
            "scenarios": len(comparison) - 1,
            "comparison": dg.MetadataValue.md(markdown_table(comparison.select(shown))),
        }
    )


@warehouse_asset(
    "marts.kam_readiness",
    reads=[SEGMENTS, CANDIDATES, ALLOCATION],
    description="One row per as-of date: revenue concentration, how clearly the picks stand out, input "
    "completeness, account-management coverage, selection stability, and the verdict READY, "
    "STRENGTHEN_ACCOUNT_MANAGEMENT_FIRST or DATA_TOO_THIN with its reasons.",
    **KAM_ASSET,
)
def kam_readiness(context: dg.AssetExecutionContext, tables: Tables) -> dg.MaterializeResult:
    run = tables.settings
    row = programme_readiness(
        tables.read(SEGMENTS, READINESS_READS["segments"]),
        tables.read(CANDIDATES, READINESS_READS["candidates"]),
        tables.read(ALLOCATION, READINESS_READS["allocation"]),
        run.kam,
        run.readiness,
    )
    tables.replace_rows("marts.kam_readiness", row, {"as_of_date": run.as_of})
    facts = row.row(0, named=True)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": tables.count("marts.kam_readiness"),
            "verdict": facts["verdict"],
            "reasons": dg.MetadataValue.md("\n".join(f"- {r}" for r in facts["verdict_reasons"].split("; "))),
        }
    )
