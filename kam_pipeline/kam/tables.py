"""The tables of the KAM decisions and the hours plan, declared once (kam_pipeline.table_spec).

docs/methodology.md §K defines every figure; sql/30_marts.sql is rendered from here.
"""

import polars as pl

from kam_pipeline.segmentation.amounts import TOTAL_AMOUNT
from kam_pipeline.table_spec import Column, Table

KAM_CANDIDATES = Table(
    "marts.kam_candidates",
    "Every customer with its Key Account Management decision for the as-of date.",
    columns=(
        Column("customer_id", pl.String, "Customer (account group) id."),
        Column("customer_name", pl.String, "Customer name."),
        Column(
            "score",
            pl.Float64,
            (
                "0-100: 100 x (w x attractiveness + (1 - w) x strength) with w = kam.attractiveness_weight (0.7"
                " by default); null outside the universe."
            ),
        ),
        Column(
            "attractiveness",
            pl.Float64,
            "Weighted mean of percent ranks of revenue, margin, potential and growth (0-1).",
        ),
        Column("strength", pl.Float64, "Competitive position mapped 1 -> 0 ... 5 -> 1 (null -> 0.5)."),
        Column(
            "selection_score",
            pl.Float64,
            "Score plus the incumbent bonus for current key accounts: what selection ranks by.",
        ),
        Column(
            "eligible",
            pl.Boolean,
            ("Passes the margin test and is A-class or HIGH potential (and in a strategic industry when listed)."),
        ),
        Column("ineligible_reason", pl.String, "Why not eligible, with figures."),
        Column("is_current_key_account", pl.Boolean, "Any account of the group is a key account in the CRM today."),
        Column(
            "decision",
            pl.String,
            "KEEP, ADD, REVIEW (grace period), DESELECT, WATCH (close to the cut-off) or NONE.",
        ),
        Column("decision_reason", pl.String, "Sentence with the figures behind the decision."),
        Column(
            "selection_rank",
            pl.Int64,
            "Position among eligible customers by selection_score, then customer id (null when ineligible).",
        ),
        Column("as_of_date", pl.Date, "As-of date of the run."),
    ),
)


RESOURCE_ALLOCATION = Table(
    "marts.resource_allocation",
    "Yearly hours each customer should get: account-manager hours by tier, KAM hours for KEEP and ADD.",
    columns=(
        Column("customer_id", pl.String, "Customer id."),
        Column("owner_id", pl.String, "Account manager who gets the account-manager hours."),
        Column("region", pl.String, "Region whose KAM team gets the KAM hours."),
        Column("tier", pl.String, "Customer tier."),
        Column("kam_decision", pl.String, "The customer's KAM decision."),
        Column("am_hours", pl.Float64, "Account-manager hours per year for the tier."),
        Column("kam_hours", pl.Float64, "Key account manager hours per year (hours_per_key_account for KEEP and ADD)."),
        Column("as_of_date", pl.Date, "As-of date of the run."),
    ),
)


ACCOUNT_MANAGER_LOAD = Table(
    "marts.account_manager_load",
    "Per account manager: hours the coverage model asks for against capacity.",
    columns=(
        Column("owner_id", pl.String, "Account manager id."),
        Column("name", pl.String, "Name as in the CRM."),
        Column("role", pl.String, "AM or KAM."),
        Column("region", pl.String, "Region of the manager."),
        Column("customers", pl.Int64, "Customers owned, plus key accounts served for KAMs."),
        Column("required_hours", pl.Float64, "Hours per year the coverage model allocates to this manager."),
        Column("capacity_hours", pl.Float64, "Hours per year available (CRM)."),
        Column("utilisation", pl.Float64, "required_hours / capacity_hours."),
        Column(
            "load_status",
            pl.String,
            "OVER (utilisation > kam.load_over, 1.10 by default), UNDER (< kam.load_under, 0.70) or BALANCED.",
        ),
        Column("as_of_date", pl.Date, "As-of date of the run."),
    ),
)


KAM_PROGRAMME = Table(
    "marts.kam_programme",
    (
        "One row per snapshot: the KAM programme's size, cost and estimated return against a control group (an "
        "estimate, not proof: docs/methodology.md)."
    ),
    columns=(
        Column("as_of_date", pl.Date, "As-of date of the snapshot."),
        Column("max_key_accounts", pl.Int64, "floor(KAM team capacity hours / hours_per_key_account)."),
        Column("key_accounts", pl.Int64, "Current key accounts (KEEP + REVIEW + DESELECT)."),
        Column("keep", pl.Int64, "Customers with decision KEEP."),
        Column("add", pl.Int64, "Customers with decision ADD."),
        Column("review", pl.Int64, "Customers with decision REVIEW."),
        Column("deselect", pl.Int64, "Customers with decision DESELECT."),
        Column("watch", pl.Int64, "Customers with decision WATCH."),
        Column("control_customers", pl.Int64, "Control group: A-class customers that are not key accounts."),
        Column("key_revenue_t12m", TOTAL_AMOUNT, "Key accounts' revenue in the trailing window."),
        Column("key_revenue_prior", TOTAL_AMOUNT, "Key accounts' revenue in the prior window."),
        Column("key_revenue_growth", pl.Float64, "Growth of the key accounts' total revenue."),
        Column("key_margin_t12m", TOTAL_AMOUNT, "Key accounts' margin in the trailing window."),
        Column("key_margin_prior", TOTAL_AMOUNT, "Key accounts' margin in the prior window."),
        Column("key_margin_growth", pl.Float64, "Growth of the key accounts' total margin."),
        Column("control_revenue_t12m", TOTAL_AMOUNT, "Control group revenue in the trailing window."),
        Column("control_revenue_prior", TOTAL_AMOUNT, "Control group revenue in the prior window."),
        Column("control_revenue_growth", pl.Float64, "Growth of the control group's total revenue."),
        Column("control_margin_t12m", TOTAL_AMOUNT, "Control group margin in the trailing window."),
        Column("control_margin_prior", TOTAL_AMOUNT, "Control group margin in the prior window."),
        Column("control_margin_growth", pl.Float64, "Growth of the control group's total margin."),
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
