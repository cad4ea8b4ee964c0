"""The tables of the KAM decisions and the hours plan, declared once (kam_pipeline.table_spec).

docs/methodology.md §K defines every figure; sql/30_marts.sql is rendered from here.
"""

import polars as pl

from kam_pipeline.ingest.contract.extracts import TIERS
from kam_pipeline.segmentation.amounts import TOTAL_AMOUNT
from kam_pipeline.table_spec import Column, Table

KAM_CANDIDATES = Table(
    "marts.kam_candidates",
    "Every customer with its Key Account Management decision for the as-of date, and what the next review would do.",
    columns=(
        Column("customer_id", pl.String, "Customer (account group) id."),
        Column("customer_name", pl.String, "Customer name."),
        Column(
            "score",
            pl.Float64,
            (
                "0-100: 100 x the weighted sum of the factors (percent ranks among the eligible candidates of "
                "revenue, margin, potential and growth; competitive position), kam.weight_*; null outside the "
                "universe."
            ),
        ),
        Column(
            "attractiveness",
            pl.Float64,
            "Weighted mean of the revenue, margin, potential and growth factors (0-1).",
        ),
        Column("strength", pl.Float64, "Competitive position mapped 1 -> 0 ... 5 -> 1 (null -> 0.5)."),
        Column(
            "selection_score",
            pl.Float64,
            "Score plus kam.incumbent_bonus for current key accounts: what selection ranks by.",
        ),
        Column(
            "eligible",
            pl.Boolean,
            "Positive revenue, passes the margin test, segment class A or HIGH potential (and strategic industry).",
        ),
        Column("ineligible_reason", pl.String, "Why not eligible, with figures."),
        Column("is_current_key_account", pl.Boolean, "Any account of the group is a key account in the CRM today."),
        Column(
            "decision",
            pl.String,
            (
                "What holds now: at a review date the proposed decision; between reviews KEEP for every current key "
                "account, WATCH for proposed newcomers, NONE otherwise."
            ),
        ),
        Column(
            "proposed_decision",
            pl.String,
            (
                "What the review on review_date would decide today: KEEP, ADD, REVIEW (grace period), DESELECT, "
                "WATCH or NONE, within capacity and the turnover cap."
            ),
        ),
        Column(
            "decision_reason",
            pl.String,
            (
                "Sentence with the figures behind the decision and the proposal: the override and what the ranking "
                "alone would do, the factor that held an eligible customer back, MARGINAL with its stability."
            ),
        ),
        Column(
            "decision_source",
            pl.String,
            (
                "RULE: the ranking decided; OVERRIDE: an override changed the decision or the proposal (the "
                "customer's own, or an INCLUDE whose seat it gave up)."
            ),
        ),
        Column("override_id", pl.String, "The INCLUDE or EXCLUDE override in force on the customer, if any."),
        Column("override_action", pl.String, "INCLUDE or EXCLUDE: the action of override_id."),
        Column("rule_decision", pl.String, "The decision the ranking alone gives (without any override)."),
        Column("rule_proposed_decision", pl.String, "The proposal the ranking alone gives (without any override)."),
        *(
            Column(
                f"points_{factor}",
                pl.Float64,
                f"Points the {factor} factor contributes to the score: 100 x weight x factor / sum of weights.",
            )
            for factor in ("revenue", "margin", "potential", "growth", "position")
        ),
        Column(
            "points_to_cutoff",
            pl.Float64,
            (
                "cutoff_score - selection_score: points missing to the last seat of the ideal programme (<= 0: "
                "inside it); null outside the selection pool."
            ),
        ),
        Column(
            "held_back_by",
            pl.String,
            "The factor furthest below its maximum points (revenue, margin, potential, growth, position).",
        ),
        Column(
            "selection_stability",
            pl.Float64,
            (
                "Share of kam.robustness_draws weight variations (each weight x U(1 - spread, 1 + spread), "
                "renormalised, seeded) in which the customer is among the best of the pool; 1.0 for an INCLUDE, "
                "0.0 outside the pool, null outside the universe."
            ),
        ),
        Column(
            "marginal",
            pl.Boolean,
            "The customer's place in or out of the ideal programme flips in more than kam.marginal_share of them.",
        ),
        Column(
            "selection_rank",
            pl.Int64,
            "Position among eligible customers by selection_score, then customer id (null when ineligible).",
        ),
        Column(
            "review_date",
            pl.Date,
            "The review the proposal is for: the as-of date when it is a review date, else the next one.",
        ),
        Column("as_of_date", pl.Date, "As-of date of the run."),
    ),
)


RESOURCE_ALLOCATION = Table(
    "marts.resource_allocation",
    (
        "Per customer: its coverage plan, the yearly hours it needs and the hours its managers can give it "
        "within their capacity."
    ),
    columns=(
        Column("customer_id", pl.String, "Customer id."),
        Column("owner_id", pl.String, "Account manager who gets the account-manager hours."),
        Column("region", pl.String, "Region whose KAM team gets the KAM hours."),
        Column("tier", pl.String, "The tier the plan follows: the segmentation's, or the one a TIER override forces."),
        Column("tier_override_id", pl.String, "The TIER override that forces the tier, if any."),
        Column("kam_decision", pl.String, "The customer's KAM decision (what holds now)."),
        Column(
            "plan",
            pl.String,
            (
                "KEY_ACCOUNT, DEFEND (A/B at risk), WIN_BACK (lapsed with potential), or the tier; DEVELOP without "
                "evidence of potential falls back to MAINTAIN or SERVE_EFFICIENTLY."
            ),
        ),
        Column(
            "priority",
            pl.Int64,
            (
                "Serving order 1..n: by plan, then portfolio rank, then customer id. Every manager serves its "
                "customers in this order until its capacity runs out."
            ),
        ),
        Column("am_hours", pl.Float64, "Account-manager hours per year the plan needs (0 for key accounts)."),
        Column("kam_hours", pl.Float64, "Key account manager hours per year (kam.hours_per_key_account)."),
        Column("allocated_am_hours", pl.Float64, "Of am_hours, what the owner's capacity covers in queue order."),
        Column("allocated_kam_hours", pl.Float64, "Of kam_hours, what the KAM managers' capacity covers."),
        Column(
            "coverage",
            pl.String,
            "FULL, PARTIAL or UNCOVERED by allocated hours; POOLED when the plan needs no named hours.",
        ),
        Column("as_of_date", pl.Date, "As-of date of the run."),
    ),
)


ACCOUNT_MANAGER_LOAD = Table(
    "marts.account_manager_load",
    "Per account manager: hours the coverage plans ask for against capacity, and the gap.",
    columns=(
        Column("owner_id", pl.String, "Account manager id."),
        Column("name", pl.String, "Name as in the CRM."),
        Column("role", pl.String, "AM or KAM."),
        Column("region", pl.String, "Region of the manager."),
        Column("customers", pl.Int64, "Customers with hours from this manager: owned, plus key accounts served."),
        Column("required_hours", pl.Float64, "Hours per year the coverage plans ask of this manager."),
        Column("allocated_hours", pl.Float64, "Of those, what fits in capacity (served in queue order)."),
        Column("capacity_hours", pl.Float64, "Customer-facing hours per year available (CRM)."),
        Column("utilisation", pl.Float64, "required_hours / capacity_hours."),
        Column(
            "load_status",
            pl.String,
            "OVER (utilisation > kam.load_over, 1.10 by default), UNDER (< kam.load_under, 0.70) or BALANCED.",
        ),
        Column("gap_hours", pl.Float64, "required_hours - capacity_hours: positive = hours short, negative = spare."),
        Column("gap_fte", pl.Float64, "gap_hours / kam.fte_hours (customer-facing hours of one full-time manager)."),
        Column("uncovered_customers", pl.Int64, "Customers in this manager's queue not fully covered."),
        Column("as_of_date", pl.Date, "As-of date of the run."),
    ),
)


CAPACITY_GAP = Table(
    "marts.capacity_gap",
    "Hours required against capacity for the whole team, per role and per region, in hours and FTE.",
    columns=(
        Column("level", pl.String, "TEAM (everyone), ROLE (AM, KAM) or REGION."),
        Column("level_value", pl.String, "ALL, the role or the region."),
        Column("managers", pl.Int64, "Managers at this level."),
        Column("required_hours", pl.Float64, "Hours the coverage plans ask for."),
        Column("allocated_hours", pl.Float64, "Hours that fit in each manager's capacity."),
        Column("capacity_hours", pl.Float64, "Customer-facing hours available."),
        Column("utilisation", pl.Float64, "required_hours / capacity_hours."),
        Column("gap_hours", pl.Float64, "required_hours - capacity_hours (positive = short)."),
        Column("gap_fte", pl.Float64, "gap_hours / kam.fte_hours."),
        Column("uncovered_hours", pl.Float64, "required_hours - allocated_hours: hours no one has time for."),
        Column("as_of_date", pl.Date, "As-of date of the run."),
    ),
)


KAM_PROGRAMME = Table(
    "marts.kam_programme",
    (
        "One row per snapshot: the KAM programme's size, pending changes, cost and estimated return against a "
        "control group chosen on prior-period facts (an estimate, not proof: docs/methodology.md §K7)."
    ),
    columns=(
        Column("as_of_date", pl.Date, "As-of date of the snapshot."),
        Column("review_date", pl.Date, "The review the proposals are for (the as-of date at a review)."),
        Column("max_key_accounts", pl.Int64, "Seats: floor(KAM hours net of own portfolios / hours_per_key_account)."),
        Column("turnover_seats", pl.Int64, "Key accounts a review may replace by newcomers (kam.turnover_cap)."),
        Column("key_accounts", pl.Int64, "Current key accounts (CRM flag)."),
        Column("keep", pl.Int64, "Customers with decision KEEP."),
        Column("add", pl.Int64, "Customers with decision ADD."),
        Column("review", pl.Int64, "Customers with decision REVIEW."),
        Column("deselect", pl.Int64, "Customers with decision DESELECT."),
        Column("watch", pl.Int64, "Customers with decision WATCH."),
        Column("proposed_add", pl.Int64, "Customers the review would add."),
        Column("proposed_deselect", pl.Int64, "Key accounts the review would deselect."),
        Column("proposed_review", pl.Int64, "Key accounts the review would put to REVIEW."),
        Column(
            "control_customers",
            pl.Int64,
            "Control group: customers that are not key accounts and were in the top kam.control_prior_share (80 %) "
            "of prior-window revenue.",
        ),
        Column("key_revenue_t12m", TOTAL_AMOUNT, "Key accounts' revenue in the trailing window."),
        Column("key_revenue_prior", TOTAL_AMOUNT, "Key accounts' revenue in the prior window."),
        Column("key_revenue_growth", pl.Float64, "Growth of the key accounts' total revenue (fraction)."),
        Column("key_margin_t12m", TOTAL_AMOUNT, "Key accounts' margin in the trailing window."),
        Column("key_margin_prior", TOTAL_AMOUNT, "Key accounts' margin in the prior window."),
        Column("key_margin_growth", pl.Float64, "Growth of the key accounts' total margin (fraction)."),
        Column("control_revenue_t12m", TOTAL_AMOUNT, "Control group revenue in the trailing window."),
        Column("control_revenue_prior", TOTAL_AMOUNT, "Control group revenue in the prior window."),
        Column("control_revenue_growth", pl.Float64, "Growth of the control group's total revenue (fraction)."),
        Column("control_margin_t12m", TOTAL_AMOUNT, "Control group margin in the trailing window."),
        Column("control_margin_prior", TOTAL_AMOUNT, "Control group margin in the prior window."),
        Column("control_margin_growth", pl.Float64, "Growth of the control group's total margin (fraction)."),
        Column(
            "kam_cost",
            TOTAL_AMOUNT,
            "key_accounts x hours_per_key_account x mean hourly cost of the KAM managers.",
        ),
        Column(
            "incremental_margin",
            TOTAL_AMOUNT,
            "key_margin_t12m - key_margin_prior x (1 + control_margin_growth).",
        ),
        Column("roi", pl.Float64, "(incremental_margin - kam_cost) / kam_cost."),
        Column("override_includes", pl.Int64, "Customers with an INCLUDE override in force."),
        Column("override_excludes", pl.Int64, "Customers with an EXCLUDE override in force."),
        Column("over_capacity", pl.Boolean, "The INCLUDE overrides alone exceed max_key_accounts."),
    ),
)


KAM_OVERRIDES_MART = Table(
    "marts.kam_overrides",
    "Every override of the KAM committee with what it does on the as-of date (docs/methodology.md §K5.8).",
    columns=(
        Column("override_id", pl.String, "Id of the override in the CRM."),
        Column("account_id", pl.String, "CRM account it names."),
        Column("customer_id", pl.String, "The customer (account group) it applies to."),
        Column("action", pl.String, "INCLUDE, EXCLUDE or TIER."),
        Column("tier", pl.String, "The tier a TIER override forces."),
        Column("reason", pl.String, "Why the committee overrules the ranking."),
        Column("approved_by", pl.String, "Who approved it."),
        Column("valid_from", pl.Date, "First day it applies."),
        Column("valid_until", pl.Date, "Last day it applies (null: open-ended EXCLUDE)."),
        Column(
            "status",
            pl.String,
            (
                "APPLIED (in force and changes the outcome), EXPIRED (after valid_until), NOT_YET_VALID (before "
                "valid_from), CONFLICT (contradicts another override in force on the customer; none of them "
                "applies), NO_EFFECT (in force, but the outcome is the same without it)."
            ),
        ),
        Column("status_reason", pl.String, "The status in words, with the dates or decisions behind it."),
        Column("days_to_expiry", pl.Int64, "valid_until - as-of date in days (negative once expired)."),
        Column(
            "expires_soon",
            pl.Boolean,
            "Applied or in conflict, and ends within kam.override_expiry_days: to renew or let go.",
        ),
        Column("as_of_date", pl.Date, "As-of date of the run."),
    ),
)


TIER_MIGRATION = Table(
    "marts.tier_migration",
    "Customers and revenue that moved between tiers from the previous snapshot to this one.",
    columns=(
        Column("as_of_date", pl.Date, "As-of date of the current snapshot."),
        Column("previous_as_of_date", pl.Date, "As-of date of the latest earlier snapshot (null when there is none)."),
        Column("from_tier", pl.String, "Tier in the previous snapshot, or NEW for customers not in it."),
        Column("to_tier", pl.String, "Tier in the current snapshot, or GONE for customers no longer in it."),
        Column("customers", pl.Int64, "Customers that moved from from_tier to to_tier."),
        Column("revenue_t12m", TOTAL_AMOUNT, "Their current revenue_t12m (0 for GONE)."),
        Column("previous_revenue_t12m", TOTAL_AMOUNT, "Their revenue_t12m in the previous snapshot (0 for NEW)."),
    ),
)


SCENARIO_CANDIDATES = Table(
    "marts.scenario_candidates",
    (
        "Every customer under each what-if scenario of the settings file: its decisions and hours plan, and how "
        "the programme the next review would set differs from the base plan's (docs/methodology.md §K11)."
    ),
    columns=(
        Column("scenario", pl.String, "Scenario name ([scenarios.<name>] in the settings file)."),
        Column("customer_id", pl.String, "Customer id."),
        Column("customer_name", pl.String, "Customer name."),
        Column("tier", pl.String, "Tier under the scenario's segmentation settings."),
        Column("segment_class", pl.String, "ABC class on the segmentation basis under the scenario."),
        Column("revenue_t12m", TOTAL_AMOUNT, "Revenue in the trailing window (the same in every scenario)."),
        Column("margin_t12m", TOTAL_AMOUNT, "Margin in the trailing window (the same in every scenario)."),
        Column("eligible", pl.Boolean, "Eligible for KAM under the scenario."),
        Column("score", pl.Float64, "KAM score under the scenario."),
        Column("selection_rank", pl.Int64, "Rank in the selection pool under the scenario."),
        Column("decision", pl.String, "What would hold now under the scenario."),
        Column("proposed_decision", pl.String, "What the next review would decide under the scenario."),
        Column("decision_source", pl.String, "RULE or OVERRIDE, as in marts.kam_candidates."),
        Column("selection_stability", pl.Float64, "Selection stability under the scenario's weights."),
        Column("marginal", pl.Boolean, "MARGINAL under the scenario."),
        Column("decision_reason", pl.String, "The reason under the scenario."),
        Column("base_proposed_decision", pl.String, "The base plan's proposed decision (marts.kam_candidates)."),
        Column(
            "change_vs_base",
            pl.String,
            (
                "ADDED: a key account of the scenario's proposal (KEEP or ADD) but not of the base plan's; REMOVED: "
                "the reverse; UNCHANGED: in both; NONE: in neither."
            ),
        ),
        Column("plan", pl.String, "Coverage plan under the scenario."),
        Column("am_hours", pl.Float64, "Account-manager hours the plan needs."),
        Column("kam_hours", pl.Float64, "KAM hours the plan needs."),
        Column("allocated_hours", pl.Float64, "Hours the managers' capacity covers (AM and KAM)."),
        Column("coverage", pl.String, "FULL, PARTIAL, UNCOVERED or POOLED under the scenario."),
        Column("as_of_date", pl.Date, "As-of date of the run."),
    ),
)

SCENARIO_COMPARISON = Table(
    "marts.scenario_comparison",
    (
        "One row for the base plan and one per what-if scenario: the programme the next review would set, the "
        "revenue and margin it covers, the hours it needs against the hours available, customers per tier, and "
        "what changes against the base plan (docs/methodology.md §K11)."
    ),
    columns=(
        Column("scenario", pl.String, "base, or the scenario name."),
        Column("description", pl.String, "The scenario's description from the settings file."),
        Column("changes", pl.String, "The settings the scenario changes, `key = value; ...` (empty for base)."),
        Column("max_key_accounts", pl.Int64, "Seats under the scenario (§K4)."),
        Column("key_accounts", pl.Int64, "Customers the next review would make or keep key accounts (KEEP or ADD)."),
        Column("key_revenue_t12m", TOTAL_AMOUNT, "Their revenue in the trailing window."),
        Column("key_revenue_share", pl.Float64, "Their share of all customers' revenue_t12m."),
        Column("key_margin_t12m", TOTAL_AMOUNT, "Their margin in the trailing window."),
        Column("key_margin_share", pl.Float64, "Their share of all customers' margin_t12m."),
        Column("required_hours", pl.Float64, "Account-manager and KAM hours the coverage plans need in a year."),
        Column("allocated_hours", pl.Float64, "Of those, what the managers' capacity covers."),
        Column("available_hours", pl.Float64, "Capacity of all managers, planned KAMs included."),
        Column("gap_hours", pl.Float64, "required_hours - available_hours (> 0: short of people)."),
        Column("gap_fte", pl.Float64, "gap_hours / kam.fte_hours."),
        Column("uncovered_customers", pl.Int64, "Customers whose hours are PARTIAL or UNCOVERED."),
        Column("marginal_decisions", pl.Int64, "Customers whose selection is MARGINAL (§K5.7)."),
        *(Column(f"customers_{tier.lower()}", pl.Int64, f"Customers in tier {tier}.") for tier in TIERS),
        Column("added", pl.Int64, "Key accounts of this scenario that the base plan does not have (ADDED)."),
        Column("removed", pl.Int64, "Key accounts of the base plan that this scenario drops (REMOVED)."),
        Column("unchanged", pl.Int64, "Key accounts in both."),
        Column("as_of_date", pl.Date, "As-of date of the run."),
    ),
)


KAM_READINESS = Table(
    "marts.kam_readiness",
    (
        "One row per as-of date: is the portfolio ready for a KAM programme, or should account management be "
        "strengthened first? The figures, the verdict and its reasons (docs/methodology.md §K12)."
    ),
    columns=(
        Column("as_of_date", pl.Date, "As-of date of the snapshot."),
        Column("customers", pl.Int64, "Customers with revenue in the trailing window (the universe)."),
        Column("top20_revenue_share", pl.Float64, "Share of revenue_t12m carried by the largest 20 % of customers."),
        Column(
            "revenue_gini", pl.Float64, "Gini coefficient of revenue_t12m over the universe (0 equal, 1 one customer)."
        ),
        Column("eligible_customers", pl.Int64, "Customers eligible for KAM (§K3)."),
        Column("key_accounts", pl.Int64, "Key accounts the next review would set (proposed KEEP or ADD)."),
        Column("last_pick_score", pl.Float64, "Lowest score among the ranking's picks (proposed KEEP or ADD, RULE)."),
        Column("median_eligible_score", pl.Float64, "Median score of the eligible customers."),
        Column("score_gap", pl.Float64, "last_pick_score - median_eligible_score: how clearly the picks stand out."),
        Column("wallet_coverage_a", pl.Float64, "Share of A-class revenue with a CRM (or mixed) wallet."),
        Column("cost_coverage_a", pl.Float64, "Share of A-class revenue with a known cost (margin_coverage weighted)."),
        Column("position_coverage_a", pl.Float64, "Share of A-class revenue with a rated competitive position."),
        Column("am_coverage_ab", pl.Float64, "Share of A/B customers whose hours are covered (FULL or POOLED)."),
        Column("at_risk_share_ab", pl.Float64, "Share of A/B customers at risk."),
        Column("stable_pick_share", pl.Float64, "Share of the ranking's picks that are not MARGINAL (§K5.7)."),
        Column("marginal_decisions", pl.Int64, "Customers whose selection is MARGINAL."),
        Column(
            "verdict",
            pl.String,
            "READY, STRENGTHEN_ACCOUNT_MANAGEMENT_FIRST or DATA_TOO_THIN (thresholds: [readiness] settings).",
        ),
        Column("verdict_reasons", pl.String, "The checks behind the verdict with their figures, separated by '; '."),
    ),
)
