"""The tables the segmentation publishes, declared once (kam_pipeline.table_spec).

Amounts are in the reporting currency as fixed-scale decimals; shares and
ratios are doubles between 0 and 1. docs/methodology.md §S defines every
figure; sql/30_marts.sql and sql/20_quality.sql are rendered from here.
"""

import polars as pl

from kam_pipeline.segmentation.amounts import AMOUNT
from kam_pipeline.table_spec import Column, Table

CUSTOMER_SEGMENTS = Table(
    "marts.customer_segments",
    "Commercial segmentation: one row per customer (account group) for the as-of date.",
    columns=(
        Column(
            "customer_id",
            pl.String,
            ("Top account of the group in the CRM hierarchy (or the account itself when the unit is single accounts)."),
        ),
        Column("customer_name", pl.String, "Name of the top account."),
        Column("region", pl.String, "Sales region of the top account."),
        Column("country_code", pl.String, "Country of the top account (ISO 3166 alpha-2)."),
        Column("industry", pl.String, "Industry of the top account."),
        Column("owner_id", pl.String, "Account manager owning the top account."),
        Column("revenue_t12m", AMOUNT, "Net revenue (invoices and credit notes) dated in (D - window, D]."),
        Column("revenue_prior", AMOUNT, "Net revenue dated in (D - 2 windows, D - window]."),
        Column("margin_t12m", AMOUNT, "Sum of net - cost over the window's lines whose cost is known."),
        Column("margin_prior", AMOUNT, "The same over the prior window."),
        Column("margin_pct", pl.Float64, "margin_t12m / revenue_t12m when revenue_t12m > 0."),
        Column("margin_coverage", pl.Float64, "Share of window revenue whose cost is known."),
        Column("growth_pct", pl.Float64, "(revenue_t12m - revenue_prior) / revenue_prior when revenue_prior > 0."),
        Column("trend", pl.String, "NEW, LOST, GROWING, DECLINING, STABLE, or NONE without revenue in either window."),
        Column(
            "last_invoice_date",
            pl.Date,
            "Date of the latest INVOICE line on or before D, any window; null when the customer was never invoiced.",
        ),
        Column(
            "revenue_share",
            pl.Float64,
            "revenue_t12m / total revenue of the universe (customers with revenue_t12m > 0).",
        ),
        Column(
            "cumulative_share",
            pl.Float64,
            "Running share in Pareto order (revenue descending, then customer id), including this customer.",
        ),
        Column(
            "abc_class",
            pl.String,
            (
                "A: the customers needed to reach segmentation.abc_a_cut of revenue (80 % by default); B: up to"
                " abc_b_cut (95 %); C: the rest; N: outside the universe."
            ),
        ),
        Column(
            "margin_abc_class",
            pl.String,
            "The same ABC computed on margin_t12m over customers with positive margin (N otherwise).",
        ),
        Column(
            "margin_share",
            pl.Float64,
            "margin_t12m / total margin of the customers with positive margin (null for the others).",
        ),
        Column(
            "segment_class",
            pl.String,
            (
                "The class that drives tier and KAM eligibility: abc_class, or with segmentation.basis = margin "
                "margin_abc_class (C for a customer with revenue but no positive margin). N: no positive revenue."
            ),
        ),
        Column("region_abc_class", pl.String, "ABC class within the customer's region."),
        Column("country_abc_class", pl.String, "ABC class within the customer's country."),
        Column("portfolio_abc_class", pl.String, "ABC class within the owner's portfolio."),
        Column(
            "portfolio_rank",
            pl.Int32,
            "Rank 1..n by revenue within the owner's portfolio (null outside the universe).",
        ),
        Column(
            "wallet",
            AMOUNT,
            (
                "Estimated yearly spend on what we sell: the sum over the group's accounts of each account's CRM "
                "estimate, else its employees x spend per employee of its industry."
            ),
        ),
        Column(
            "wallet_source",
            pl.String,
            "CRM or BENCHMARK when every account's wallet came from there, MIXED when both, NONE without a wallet.",
        ),
        Column(
            "wallet_below_revenue",
            pl.Boolean,
            "revenue_t12m exceeds the wallet: the estimate is too low, so the headroom is unknown (null).",
        ),
        Column(
            "headroom",
            AMOUNT,
            "wallet - max(revenue_t12m, 0); null without a wallet or when the wallet is below revenue.",
        ),
        Column("share_of_wallet", pl.Float64, "revenue_t12m / wallet (above 1 when the wallet is below revenue)."),
        Column(
            "pipeline_weighted",
            AMOUNT,
            "Sum of amount x probability of OPEN opportunities closing in (D, D + window].",
        ),
        Column(
            "potential_value",
            AMOUNT,
            (
                "max(headroom, pipeline_weighted), the pipeline counting only when it reaches "
                "segmentation.potential_pipeline_min_share of revenue_t12m (10 % by default)."
            ),
        ),
        Column(
            "potential_driver",
            pl.String,
            "HEADROOM or PIPELINE: which one gives potential_value; NONE when neither is known.",
        ),
        Column(
            "potential_class",
            pl.String,
            (
                "HIGH (percent rank >= segmentation.potential_high_pr, 0.80 by default), MEDIUM (>= "
                "potential_medium_pr, 0.50), LOW, or UNKNOWN without a known headroom and without material pipeline."
            ),
        ),
        Column(
            "threat_level",
            pl.String,
            (
                "HIGH (two or more reasons, or growth <= segmentation.threat_high_growth_pct, -30 % by "
                "default), MEDIUM (one reason) or NONE."
            ),
        ),
        Column(
            "threat_reasons",
            pl.String,
            "Comma-separated: DECLINING, INACTIVE, LOST_DEALS, WEAK_POSITION; empty when none.",
        ),
        Column(
            "tier",
            pl.String,
            (
                "STRATEGIC, CORE, DEVELOP, MAINTAIN, SERVE_EFFICIENTLY (from segment_class and potential), or, "
                "without positive revenue, LAPSED (invoiced before) or PROSPECT (never invoiced)."
            ),
        ),
        Column("at_risk", pl.Boolean, "threat_level HIGH on a customer of segment_class A or B."),
        Column("tier_reason", pl.String, "Readable sentence with the figures that put the customer in its tier."),
        Column("as_of_date", pl.Date, "As-of date D of the run."),
        Column("competitive_position", pl.Int64, "CRM competitive position of the top account, 1-5 (5 = we lead)."),
        Column("is_current_key_account", pl.Boolean, "Any account of the group is flagged as key account in the CRM."),
        Column("key_account_since", pl.Date, "Earliest key_account_since among the group's key accounts."),
    ),
)


SEGMENT_SUMMARY = Table(
    "marts.segment_summary",
    "Customers and revenue per tier at each organisation level.",
    columns=(
        Column("level", pl.String, "GLOBAL, REGION, COUNTRY or OWNER."),
        Column("level_value", pl.String, "The region, country or owner id; ALL for GLOBAL."),
        Column("tier", pl.String, "Tier (only tiers that occur are listed)."),
        Column("customers", pl.Int64, "Customers in this tier at this level value."),
        Column("revenue_t12m", AMOUNT, "Their revenue in the trailing window."),
        Column("revenue_share", pl.Float64, "Share of the level value's positive revenue."),
        Column("as_of_date", pl.Date, "As-of date of the run."),
    ),
)


UNMAPPED_CUSTOMERS = Table(
    "quality.unmapped_customers",
    (
        "ERP customers with no CRM account: valid but outside the segmentation, with the revenue the "
        "segmentation cannot see."
    ),
    columns=(
        Column("erp_customer_id", pl.String, "ERP customer number."),
        Column("customer_name", pl.String, "Name in the ERP."),
        Column("country_code", pl.String, "ISO 3166 alpha-2 country code."),
        Column("revenue_t12m", AMOUNT, "Net revenue in the trailing window, reporting currency."),
        Column(
            "share_of_revenue",
            pl.Float64,
            "Share of all accepted revenue in the trailing window (mapped and unmapped).",
        ),
        Column("as_of_date", pl.Date, "As-of date of the run."),
    ),
)
