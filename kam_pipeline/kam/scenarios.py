"""What-if scenarios: the plan under other settings, side by side with the base plan.

Each scenario of the settings file changes some segmentation or KAM
settings (`Settings.for_scenario`). Its plan is computed from the same
staged data with the same functions as the base plan: segmentation (only
when the scenario changes a segmentation setting, and only the
classification when it changes nothing else), overrides, selection,
allocation. Scenarios never touch the base plan's tables; they are compared
on the programme the next review would set and its hours (methodology §K11).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from kam_pipeline.ingest.contract.extracts import TIERS
from kam_pipeline.kam.allocation import resource_allocation
from kam_pipeline.kam.candidates import select_key_accounts
from kam_pipeline.kam.decisions import KAM_SERVED_DECISIONS
from kam_pipeline.kam.kam_team import key_account_capacity, team
from kam_pipeline.kam.overrides import final_status, forced_selection, forced_tiers, override_status
from kam_pipeline.kam.tables import SCENARIO_CANDIDATES, SCENARIO_COMPARISON
from kam_pipeline.segmentation import build_customer_segments
from kam_pipeline.segmentation.amounts import TOTAL_AMOUNT, ratio, to_amount
from kam_pipeline.segmentation.segments import reclassifies, reclassify
from kam_pipeline.settings import Settings, changed_keys

BASE = "base"
ADDED, REMOVED, UNCHANGED, NONE = "ADDED", "REMOVED", "UNCHANGED", "NONE"
#: One comparison column per tier: customers_strategic, customers_core, ...
TIER_COLUMNS = {tier: f"customers_{tier.lower()}" for tier in TIERS}


@dataclass(frozen=True)
class PlanInputs:
    """The staged data a plan is computed from (the staging tables of the run).

    What only a change of segmentation settings reads is lazy: it is collected
    for that segmentation and freed after it, instead of staying in memory
    (about 0.9 GB at 1 M accounts) through every scenario's selection; of the
    accounts, the overrides read only the hierarchy (`hierarchy`)."""

    lines: pl.LazyFrame
    erp_customers: pl.LazyFrame
    accounts: pl.LazyFrame
    hierarchy: pl.DataFrame  # the accounts' HIERARCHY_COLUMNS alone, read once for every scenario's overrides
    fx_rates: pl.LazyFrame
    opportunities: pl.LazyFrame
    managers: pl.DataFrame
    overrides: pl.DataFrame


@dataclass(frozen=True)
class Plan:
    """A plan's tables, and the seats and hours it has."""

    segments: pl.DataFrame
    candidates: pl.DataFrame
    allocation: pl.DataFrame
    max_key_accounts: int
    available_hours: float


def review_plan(
    segments: pl.DataFrame,
    candidates: pl.DataFrame,
    tiers: pl.DataFrame | None,
    inputs: PlanInputs,
    settings: Settings,
) -> Plan:
    """The plan the next review would set: hours planned on the proposed
    decisions (`tiers`: the TIER overrides that apply)."""
    at_review = candidates.with_columns(decision=pl.col("proposed_decision"))
    allocation = resource_allocation(segments, at_review, inputs.managers, settings.kam, tiers=tiers)
    managers = team(inputs.managers, settings.kam)
    return Plan(
        segments,
        candidates,
        allocation,
        key_account_capacity(managers, segments, settings.kam),
        float(managers.get_column("capacity_hours").sum()),
    )


def scenario_segments(
    inputs: PlanInputs, settings: Settings, base_segments: pl.DataFrame, base: Settings
) -> pl.DataFrame:
    """The segments under `settings` (a scenario's): the base's when the
    segmentation settings are the same, the base's reclassified when only the
    ABC cuts or basis differ (the customers' figures do not depend on them),
    else segmented again from the staged data."""
    if settings.segmentation == base.segmentation:
        return base_segments
    if reclassifies(base.segmentation, settings.segmentation):
        return reclassify(base_segments, base.segmentation, settings.segmentation)
    return build_customer_segments(
        inputs.lines,
        inputs.erp_customers.collect(),
        inputs.accounts.collect(),
        inputs.fx_rates.collect(),
        inputs.opportunities.collect(),
        settings.segmentation,
        settings.as_of,
    )


def scenario_plan(inputs: PlanInputs, settings: Settings, base_segments: pl.DataFrame, base: Settings) -> Plan:
    """The plan under `settings` (a scenario's), from the same inputs as the base plan."""
    segments = scenario_segments(inputs, settings, base_segments, base)
    status = override_status(inputs.overrides, inputs.hierarchy, settings)
    candidates = select_key_accounts(
        segments,
        inputs.managers,
        settings.kam,
        overrides=forced_selection(status),
        currency=settings.segmentation.reporting_currency,
    )
    tiers = forced_tiers(final_status(status, candidates, segments))
    return review_plan(segments, candidates, tiers, inputs, settings)


def _key_account(column: str) -> pl.Expr:
    return pl.col(column).is_in(list(KAM_SERVED_DECISIONS)).fill_null(False)


#: The columns of marts.scenario_candidates that come from a plan's candidates.
_CANDIDATE_COLUMNS = [
    "customer_id",
    "customer_name",
    "eligible",
    "score",
    "selection_rank",
    "decision",
    "proposed_decision",
    "decision_source",
    "selection_stability",
    "marginal",
    "decision_reason",
    "as_of_date",
]


def scenario_candidates(name: str, plan: Plan, base_proposals: pl.DataFrame) -> pl.DataFrame:
    """Rows of marts.scenario_candidates: every customer under scenario `name`,
    with its change against the base plan's proposal (`base_proposals`:
    customer_id, base_proposed_decision). Only the columns the table keeps
    are joined: a plan's frames are a million rows each at scale."""
    key, base_key = _key_account("proposed_decision"), _key_account("base_proposed_decision")
    change = (
        pl.when(key & base_key)
        .then(pl.lit(UNCHANGED))
        .when(key)
        .then(pl.lit(ADDED))
        .when(base_key)
        .then(pl.lit(REMOVED))
        .otherwise(pl.lit(NONE))
    )
    return (
        plan.candidates.select(_CANDIDATE_COLUMNS)
        .join(
            plan.segments.select("customer_id", "tier", "segment_class", "revenue_t12m", "margin_t12m"),
            on="customer_id",
            validate="1:1",
        )
        .join(
            plan.allocation.select(
                "customer_id",
                "plan",
                "am_hours",
                "kam_hours",
                allocated_hours=pl.col("allocated_am_hours") + pl.col("allocated_kam_hours"),
                coverage="coverage",
            ),
            on="customer_id",
            validate="1:1",
        )
        .join(base_proposals, on="customer_id", how="left", validate="1:1")
        .with_columns(scenario=pl.lit(name), change_vs_base=change)
        .pipe(SCENARIO_CANDIDATES.conform)
        .sort("customer_id")
    )


def base_proposals(candidates: pl.DataFrame) -> pl.DataFrame:
    """customer_id, base_proposed_decision: what every scenario is compared with."""
    return candidates.select("customer_id", base_proposed_decision="proposed_decision")


def comparison_row(
    name: str, description: str, changes: str, rows: pl.DataFrame, plan: Plan, settings: Settings
) -> pl.DataFrame:
    """One row of marts.scenario_comparison from a scenario's candidates rows."""
    key = _key_account("proposed_decision")
    required = (pl.col("am_hours") + pl.col("kam_hours")).sum()
    change = pl.col("change_vs_base")
    return (
        rows.select(
            key_accounts=key.sum().cast(pl.Int64),
            key_revenue_t12m=to_amount(pl.col("revenue_t12m").filter(key).sum(), TOTAL_AMOUNT),
            key_revenue_share=ratio(pl.col("revenue_t12m").filter(key).sum(), pl.col("revenue_t12m").sum()),
            key_margin_t12m=to_amount(pl.col("margin_t12m").filter(key).sum(), TOTAL_AMOUNT),
            key_margin_share=ratio(pl.col("margin_t12m").filter(key).sum(), pl.col("margin_t12m").sum()),
            required_hours=required.round(2),
            allocated_hours=pl.col("allocated_hours").sum().round(2),
            uncovered_customers=pl.col("coverage").is_in(["PARTIAL", "UNCOVERED"]).sum().cast(pl.Int64),
            marginal_decisions=pl.col("marginal").sum().cast(pl.Int64),
            added=(change == ADDED).sum().cast(pl.Int64),
            removed=(change == REMOVED).sum().cast(pl.Int64),
            unchanged=(change == UNCHANGED).sum().cast(pl.Int64),
            **{column: (pl.col("tier") == tier).sum().cast(pl.Int64) for tier, column in TIER_COLUMNS.items()},
        )
        .with_columns(
            scenario=pl.lit(name),
            description=pl.lit(description),
            changes=pl.lit(changes),
            max_key_accounts=pl.lit(plan.max_key_accounts, pl.Int64),
            available_hours=pl.lit(plan.available_hours),
            as_of_date=pl.lit(settings.as_of),
        )
        .with_columns(
            gap_hours=(pl.col("required_hours") - pl.col("available_hours")).round(2),
            gap_fte=(pl.col("required_hours") - pl.col("available_hours")) / settings.kam.fte_hours,
        )
        .pipe(SCENARIO_COMPARISON.conform)
    )


def describe_changes(settings: Settings, name: str) -> str:
    """'kam.planned_kam_hours.Nordics = 1400.0; segmentation.abc_a_cut = 0.7'."""
    scenario = settings.scenarios[name]
    leaves = changed_keys({"segmentation": scenario.segmentation, "kam": scenario.kam})
    return "; ".join(f"{key} = {value!r}" for key, value in leaves.items())


def run_scenarios(
    inputs: PlanInputs,
    segments: pl.DataFrame,
    candidates: pl.DataFrame,
    tiers: pl.DataFrame | None,
    settings: Settings,
    write: Callable[[pl.DataFrame], None],
) -> pl.DataFrame:
    """marts.scenario_comparison: the base plan (`segments`, `candidates` and
    the TIER overrides `tiers` of the run) as its first row, then every
    scenario of `settings`. Each scenario's rows of marts.scenario_candidates
    go to `write` as soon as they are computed, and its plan is released
    before the next one's: at 1 M customers a plan is about a gigabyte, and
    keeping every plan alive until the end set the run's peak memory."""
    base = review_plan(segments, candidates, tiers, inputs, settings)
    proposals = base_proposals(candidates)
    comparison = [
        comparison_row(BASE, "The plan as published", "", scenario_candidates(BASE, base, proposals), base, settings)
    ]
    del base, candidates  # from here on only the base segments and proposals are needed
    for name in sorted(settings.scenarios):
        scenario = settings.for_scenario(name)
        plan = scenario_plan(inputs, scenario, segments, settings)
        rows = scenario_candidates(name, plan, proposals)
        description = settings.scenarios[name].description
        comparison.append(comparison_row(name, description, describe_changes(settings, name), rows, plan, scenario))
        write(rows)
        del plan, rows  # before the next scenario's plan is computed, not after
    return pl.concat(comparison)
