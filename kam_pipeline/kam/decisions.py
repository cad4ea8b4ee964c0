"""KAM decisions: keep, add, deselect, review, watch, or nothing, each with its reason.

Every customer of the snapshot gets exactly one decision and one sentence
that carries the figures it rests on (methodology §K5).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from kam_pipeline.figures import fixed
from kam_pipeline.kam.scoring import in_points
from kam_pipeline.kam.snapshot import snapshot_date
from kam_pipeline.segmentation.windows import add_months
from kam_pipeline.settings import KamSettings

KEEP = "KEEP"
ADD = "ADD"
REVIEW = "REVIEW"
DESELECT = "DESELECT"
WATCH = "WATCH"
NONE = "NONE"

#: Key accounts of the coming year: they receive KAM hours.
KAM_SERVED_DECISIONS = (KEEP, ADD)

_LABELS = {
    KEEP: "Kept",
    ADD: "Added",
    REVIEW: "Review",
    DESELECT: "Deselected",
    WATCH: "Watch",
    NONE: "Not selected",
}


def in_grace_period(settings: KamSettings, as_of: date) -> pl.Expr:
    """key_account_since > D − grace_months months (month arithmetic of §S1); an
    unknown start date gets no grace (§K5.2)."""
    grace_start = add_months(as_of, -settings.grace_months)
    return (pl.col("key_account_since") > grace_start).fill_null(False)


def months_in_programme() -> pl.Expr:
    """Whole calendar months from key_account_since to as_of_date (shown in REVIEW reasons)."""
    since, as_of = pl.col("key_account_since"), pl.col("as_of_date")
    years = (as_of.dt.year() - since.dt.year()).cast(pl.Int64)
    months = as_of.dt.month().cast(pl.Int64) - since.dt.month().cast(pl.Int64)
    started_later_in_month = (as_of.dt.day() < since.dt.day()).cast(pl.Int64)
    return years * 12 + months - started_later_in_month


def points_below_cutoff() -> pl.Expr:
    """cutoff_score − selection_score: how far a customer is from being selected (§K5.3)."""
    return in_points(pl.col("cutoff_score") - pl.col("selection_score"))


def kam_decision(settings: KamSettings, as_of: date) -> pl.Expr:
    """The decision of one ranked customer (§K5.1)."""
    incumbent = pl.col("is_current_key_account")
    selected = pl.col("selected")
    return (
        pl.when(selected & incumbent)
        .then(pl.lit(KEEP))
        .when(selected)
        .then(pl.lit(ADD))
        .when(incumbent & in_grace_period(settings, as_of))
        .then(pl.lit(REVIEW))
        .when(incumbent)
        .then(pl.lit(DESELECT))
        .when(pl.col("eligible") & (points_below_cutoff() <= settings.watch_band))
        .then(pl.lit(WATCH))
        .otherwise(pl.lit(NONE))
    )


def decision_reason(max_key_accounts: int, settings: KamSettings) -> pl.Expr:
    """One sentence per decision with score, rank, capacity, cut-off and, where relevant,
    the ineligible reason, the distance to the cut-off or the months since the start (§K5.4)."""
    decision = pl.col("decision")
    bonus = pl.when(pl.col("is_current_key_account")).then(
        pl.format(
            " + {} incumbent bonus = {}", fixed(pl.lit(settings.incumbent_bonus)), fixed(pl.col("selection_score"))
        )
    )
    standing = pl.format(
        "score {}{}, rank {} of {} eligible",
        fixed(pl.col("score")),
        bonus.fill_null(""),
        pl.col("selection_rank"),
        pl.col("eligible_customers"),
    )
    capacity = pl.lit(f"the capacity of {max_key_accounts} key accounts")
    cutoff = pl.when(pl.col("cutoff_score").is_null()).then(pl.lit("no cut-off score"))
    cutoff = cutoff.otherwise(pl.format("cut-off score {}", fixed(pl.col("cutoff_score"))))
    position = (
        pl.when(~pl.col("eligible"))
        .then(pl.format("not eligible: {}", pl.col("ineligible_reason")))
        .when(pl.col("selected"))
        .then(pl.format("{}, within {} ({})", standing, capacity, cutoff))
        .otherwise(pl.format("{}, beyond {} ({})", standing, capacity, cutoff))
    )
    band = pl.when(decision == WATCH).then(pl.lit("within")).otherwise(pl.lit("outside"))
    distance = pl.when(decision.is_in([WATCH, NONE]) & pl.col("eligible")).then(
        pl.format(
            "{}, {} points below the cut-off, {} the watch band of {}",
            position,
            fixed(points_below_cutoff()),
            band,
            fixed(pl.lit(settings.watch_band)),
        )
    )
    grace = pl.when(decision == REVIEW).then(
        pl.format(
            "would be deselected ({}), but a key account only since {} ({} months), inside the {}-month grace period",
            position,
            pl.col("key_account_since"),
            months_in_programme(),
            pl.lit(settings.grace_months),
        )
    )
    body = pl.coalesce(grace, distance, position)
    return pl.format("{}: {}.", decision.replace_strict(_LABELS, return_dtype=pl.String), body)


def decide(ranked: pl.DataFrame, max_key_accounts: int, settings: KamSettings) -> pl.DataFrame:
    """`ranked` (see selection.rank_for_selection) plus decision and decision_reason (§K5)."""
    as_of = snapshot_date(ranked, "ranked candidates") or date.min
    return ranked.with_columns(decision=kam_decision(settings, as_of)).with_columns(
        decision_reason=decision_reason(max_key_accounts, settings)
    )
