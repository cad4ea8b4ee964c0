"""Coverage plans: what kind of attention each customer gets, and how many hours.

A customer's plan follows its tier, except that key accounts get KAM hours
instead of AM hours, A/B customers at risk are defended with extra hours,
lapsed customers worth winning back get win-back hours, and DEVELOP hours
need evidence of the potential (methodology §K6.1).
"""

from __future__ import annotations

import polars as pl

from kam_pipeline.segmentation.potential import CRM as CRM_WALLET
from kam_pipeline.segmentation.potential import MIXED, PIPELINE
from kam_pipeline.settings import KamSettings

KEY_ACCOUNT = "KEY_ACCOUNT"
DEFEND = "DEFEND"
WIN_BACK = "WIN_BACK"

#: Plans in the order their hours are served when a manager's capacity runs out (§K6.3).
PLAN_PRIORITY = (
    KEY_ACCOUNT,
    DEFEND,
    "STRATEGIC",
    "CORE",
    "DEVELOP",
    "MAINTAIN",
    WIN_BACK,
    "SERVE_EFFICIENTLY",
    "LAPSED",
    "PROSPECT",
)


def check_tier_hours(segments: pl.DataFrame, settings: KamSettings) -> None:
    """Fail with the offending tiers when kam.tier_hours does not cover every tier."""
    unknown = segments.filter(~pl.col("tier").is_in(list(settings.tier_hours)).fill_null(True))
    if len(unknown):
        tiers = sorted({str(t) for t in unknown.get_column("tier").to_list()})
        example = unknown.get_column("customer_id").sort().head(3).to_list()
        raise ValueError(
            f"kam.tier_hours has no hours for tier(s) {tiers} "
            f"({len(unknown)} customers, e.g. {example}); expected one of {sorted(settings.tier_hours)}"
        )


def potential_evidence() -> pl.Expr:
    """The potential rests on more than a headcount benchmark: a material
    pipeline drives it, or sales estimated the wallet (CRM or MIXED)."""
    return (pl.col("potential_driver") == PIPELINE) | pl.col("wallet_source").is_in([CRM_WALLET, MIXED])


def coverage_plan(settings: KamSettings, key_account: pl.Expr) -> pl.Expr:
    """The plan of each customer, first rule that applies (§K6.1); `key_account`
    marks the customers the KAM team serves (decision KEEP or ADD)."""
    tier = pl.col("tier")
    weak_develop = (tier == "DEVELOP") & ~potential_evidence() if settings.develop_needs_evidence else pl.lit(False)
    return (
        pl.when(key_account)
        .then(pl.lit(KEY_ACCOUNT))
        .when(pl.col("at_risk"))
        .then(pl.lit(DEFEND))
        .when((tier == "LAPSED") & pl.col("potential_class").is_in(["HIGH", "MEDIUM"]))
        .then(pl.lit(WIN_BACK))
        .when(weak_develop & (pl.col("segment_class") == "B"))
        .then(pl.lit("MAINTAIN"))
        .when(weak_develop)
        .then(pl.lit("SERVE_EFFICIENTLY"))
        .otherwise(tier)
    )


def am_hours(settings: KamSettings) -> pl.Expr:
    """Yearly AM hours of the customer's `plan`: none for a key account (KAM
    hours instead), the tier's hours plus the extra for DEFEND, the win-back
    hours for WIN_BACK, else the plan's tier hours."""
    plan = pl.col("plan")
    tier_hours = pl.col("tier").replace_strict(settings.tier_hours, default=0.0, return_dtype=pl.Float64)
    plan_hours = plan.replace_strict(settings.tier_hours, default=0.0, return_dtype=pl.Float64)
    return (
        pl.when(plan == KEY_ACCOUNT)
        .then(0.0)
        .when(plan == DEFEND)
        .then(tier_hours + settings.defend_extra_hours)
        .when(plan == WIN_BACK)
        .then(pl.lit(settings.win_back_hours))
        .otherwise(plan_hours)
    )


def kam_hours(settings: KamSettings) -> pl.Expr:
    """hours_per_key_account for a key account, 0 otherwise."""
    return pl.when(pl.col("plan") == KEY_ACCOUNT).then(settings.hours_per_key_account).otherwise(0.0)


def plan_priority() -> pl.Expr:
    """Position of the plan in PLAN_PRIORITY (0 first)."""
    return pl.col("plan").replace_strict(
        {plan: i for i, plan in enumerate(PLAN_PRIORITY)}, default=len(PLAN_PRIORITY), return_dtype=pl.Int64
    )
