"""The KAM committee's overrides: which apply on the as-of date, and to which customer.

An override names a CRM account and applies to the account's customer (its
group). On the as-of date D an override is EXPIRED after valid_until,
NOT_YET_VALID before valid_from, and otherwise in force. Overrides in force
that contradict each other on one customer (INCLUDE and EXCLUDE, or two
different tiers) are all in CONFLICT and none applies: the committee has to
settle it. A second override in force that says the same as an earlier one
has NO_EFFECT. What is left is ACTIVE here; whether it changes the outcome,
and so ends APPLIED or NO_EFFECT, is known once the ranking has run
(`final_status`; methodology §K5.8).
"""

from __future__ import annotations

import polars as pl

from kam_pipeline.ingest.contract.extracts import KAM_OVERRIDES
from kam_pipeline.kam.tables import KAM_OVERRIDES_MART
from kam_pipeline.segmentation.customer_unit import customers_of
from kam_pipeline.settings import Settings

INCLUDE, EXCLUDE, TIER = "INCLUDE", "EXCLUDE", "TIER"
APPLIED, EXPIRED, NOT_YET_VALID, CONFLICT, NO_EFFECT = "APPLIED", "EXPIRED", "NOT_YET_VALID", "CONFLICT", "NO_EFFECT"
#: Preliminary status of an override in force, before the ranking shows its effect.
ACTIVE = "ACTIVE"
#: Where a candidate's decision comes from (marts.kam_candidates.decision_source).
RULE, OVERRIDE = "RULE", "OVERRIDE"

_COLUMNS = [column.name for column in KAM_OVERRIDES.columns]


def override_status(overrides: pl.DataFrame, accounts: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """Every override with its customer_id, status (EXPIRED, NOT_YET_VALID,
    CONFLICT, NO_EFFECT or ACTIVE), status_reason, days_to_expiry and
    expires_soon on the run's as-of date; sorted by override_id.

    `overrides` is staging.kam_overrides, `accounts` staging.crm_accounts, of
    which only the hierarchy (customer_unit.HIERARCHY_COLUMNS) is read: an
    override applies to its account's customer, the group (§S2).
    """
    as_of = settings.as_of
    account_customer = customers_of(accounts, overrides.get_column("account_id"), settings.segmentation)
    until, since = pl.col("valid_until"), pl.col("valid_from")
    frame = (
        overrides.select(_COLUMNS)
        .join(account_customer, on="account_id", how="left", validate="m:1")
        .with_columns(
            days_to_expiry=(until - pl.lit(as_of)).dt.total_days().cast(pl.Int64),
            in_force=(since <= as_of) & (until.is_null() | (until >= as_of)),
        )
        .sort("valid_from", "override_id")
    )
    active = pl.col("in_force")
    per_customer = active.over("customer_id")
    includes = (active & (pl.col("action") == INCLUDE)).sum().over("customer_id")
    excludes = (active & (pl.col("action") == EXCLUDE)).sum().over("customer_id")
    tiers = pl.col("tier").filter(active & (pl.col("action") == TIER)).n_unique().over("customer_id")
    contradicts = pl.when(pl.col("action") == TIER).then(tiers > 1).otherwise((includes > 0) & (excludes > 0))
    # the earliest override in force that says the same thing is the one that applies
    same = ["customer_id", "action", "tier"]
    first = pl.col("override_id").filter(active).first().over(same)  # rows are in order of valid_from
    status = (
        pl.when(until < as_of)
        .then(pl.lit(EXPIRED))
        .when(since > as_of)
        .then(pl.lit(NOT_YET_VALID))
        .when(per_customer & contradicts)
        .then(pl.lit(CONFLICT))
        .when(pl.col("override_id") != first)
        .then(pl.lit(NO_EFFECT))
        .otherwise(pl.lit(ACTIVE))
    )
    reason = (
        pl.when(pl.col("status") == EXPIRED)
        .then(pl.format("expired on {}", until))
        .when(pl.col("status") == NOT_YET_VALID)
        .then(pl.format("applies from {}", since))
        .when((pl.col("status") == CONFLICT) & (pl.col("action") == TIER))
        .then(pl.format("other TIER overrides in force force another tier on customer {}", pl.col("customer_id")))
        .when(pl.col("status") == CONFLICT)
        .then(pl.format("INCLUDE and EXCLUDE overrides in force on customer {}", pl.col("customer_id")))
        .when(pl.col("status") == NO_EFFECT)
        .then(pl.format("says the same as {}, which applies", first))
    )
    soon = pl.col("status").is_in([ACTIVE, CONFLICT]) & (pl.col("days_to_expiry") <= settings.kam.override_expiry_days)
    return (
        frame.with_columns(status=status)
        .with_columns(status_reason=reason, expires_soon=soon.fill_null(False), as_of_date=pl.lit(as_of))
        .drop("in_force")
        .sort("override_id")
    )


def forced_selection(status: pl.DataFrame) -> pl.DataFrame:
    """customer_id, override_action (INCLUDE or EXCLUDE), override_id and
    override_text: the selection overrides that apply, one per customer."""
    return status.filter((pl.col("status") == ACTIVE) & pl.col("action").is_in([INCLUDE, EXCLUDE])).select(
        "customer_id",
        override_action="action",
        override_id="override_id",
        override_text=describe(),
    )


def forced_tiers(status: pl.DataFrame) -> pl.DataFrame:
    """customer_id, override_tier and tier_override_id: the TIER overrides
    that apply (ACTIVE here, APPLIED in marts.kam_overrides), one per customer."""
    applies = pl.col("status").is_in([ACTIVE, APPLIED]) & (pl.col("action") == TIER)
    return status.filter(applies).select("customer_id", override_tier="tier", tier_override_id="override_id")


def describe() -> pl.Expr:
    """'override O-0001 (Strategic partnership; approved by KAM committee, until 2026-12-22)'."""
    until = pl.when(pl.col("valid_until").is_null()).then(pl.lit("open-ended"))
    until = until.otherwise(pl.format("until {}", pl.col("valid_until")))
    return pl.format(
        "override {} ({}; approved by {}, {})",
        pl.col("override_id"),
        pl.col("reason").str.strip_chars(),
        pl.col("approved_by").fill_null("nobody on record"),
        until,
    )


#: The columns of each input frame final_status reads (its asset reads only these).
FINAL_STATUS_READS = {
    "candidates": ("customer_id", "decision_source", "rule_proposed_decision"),
    "segments": ("customer_id", "tier"),
}


def final_status(status: pl.DataFrame, candidates: pl.DataFrame, segments: pl.DataFrame) -> pl.DataFrame:
    """marts.kam_overrides: ACTIVE overrides become APPLIED when they changed
    the outcome (the candidate's decision_source is OVERRIDE, or the forced
    tier differs from the computed one) and NO_EFFECT otherwise."""
    outcome = candidates.select("customer_id", "decision_source", "rule_proposed_decision").join(
        segments.select("customer_id", computed_tier="tier"), on="customer_id", how="full", coalesce=True
    )
    active = pl.col("status") == ACTIVE
    is_tier = pl.col("action") == TIER
    changed = pl.when(is_tier).then(pl.col("tier") != pl.col("computed_tier"))
    changed = changed.otherwise(pl.col("decision_source") == OVERRIDE).fill_null(False)
    unknown = pl.col("computed_tier").is_null()
    no_effect = (
        pl.when(unknown)
        .then(pl.format("customer {} is not in the segmentation", pl.col("customer_id")))
        .when(is_tier)
        .then(pl.format("the segmentation already gives tier {}", pl.col("computed_tier")))
        .when(pl.col("action") == INCLUDE)
        .then(pl.format("the ranking already selects the customer ({})", pl.col("rule_proposed_decision")))
        .otherwise(pl.format("the ranking would not select the customer ({})", pl.col("rule_proposed_decision")))
    )
    applied = pl.when(is_tier).then(pl.format("forces tier {} instead of {}", pl.col("tier"), pl.col("computed_tier")))
    applied = applied.when(pl.col("action") == INCLUDE).then(
        pl.format("key account by override; the ranking alone proposes {}", pl.col("rule_proposed_decision"))
    )
    applied = applied.otherwise(
        pl.format("no key account by override; the ranking alone proposes {}", pl.col("rule_proposed_decision"))
    )
    return (
        status.join(outcome, on="customer_id", how="left")
        .with_columns(
            status=pl.when(active & changed)
            .then(pl.lit(APPLIED))
            .when(active)
            .then(pl.lit(NO_EFFECT))
            .otherwise(pl.col("status")),
            status_reason=pl.when(active & changed)
            .then(applied)
            .when(active)
            .then(no_effect)
            .otherwise(pl.col("status_reason")),
        )
        .with_columns(expires_soon=pl.col("expires_soon") & (pl.col("status") != NO_EFFECT))
        .pipe(KAM_OVERRIDES_MART.conform)
        .sort("override_id")
    )
