"""KAM decisions: keep, add, deselect, review, watch, or nothing, each with its reason.

The proposed decision is what a review would decide today; the decision is
what holds now: at a review date the proposal, between reviews the
programme as it is (methodology §K5).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from kam_pipeline.figures import fixed
from kam_pipeline.kam.scoring import in_points
from kam_pipeline.kam.selection import (
    BLOCKED_BY_GRACE,
    CAPPED,
    DISPLACED,
    FREE_SEAT,
    HELD_BY_CAP,
    INELIGIBLE,
    OVER_CAPACITY,
    REPLACES,
)
from kam_pipeline.settings import KamSettings

KEEP = "KEEP"
ADD = "ADD"
REVIEW = "REVIEW"
DESELECT = "DESELECT"
WATCH = "WATCH"
NONE = "NONE"

#: Key accounts of the coming period: they receive KAM hours.
KAM_SERVED_DECISIONS = (KEEP, ADD)

_LABELS = {
    KEEP: "Kept",
    ADD: "Added",
    REVIEW: "Review",
    DESELECT: "Deselected",
    WATCH: "Watch",
    NONE: "Not selected",
}


def months_in_programme() -> pl.Expr:
    """Whole calendar months from key_account_since to as_of_date (shown in reasons)."""
    since, as_of = pl.col("key_account_since"), pl.col("as_of_date")
    years = (as_of.dt.year() - since.dt.year()).cast(pl.Int64)
    months = as_of.dt.month().cast(pl.Int64) - since.dt.month().cast(pl.Int64)
    started_later_in_month = (as_of.dt.day() < since.dt.day()).cast(pl.Int64)
    return years * 12 + months - started_later_in_month


def points_below_cutoff() -> pl.Expr:
    """cutoff_score − selection_score: how far a customer is from the ideal programme (§K5.5)."""
    return in_points(pl.col("cutoff_score") - pl.col("selection_score"))


def proposed_decision(settings: KamSettings) -> pl.Expr:
    """What a review would decide today (§K5.1)."""
    change = pl.col("change")
    leaves = change.is_in([INELIGIBLE, OVER_CAPACITY])
    return (
        pl.when(leaves & pl.col("in_grace"))
        .then(pl.lit(REVIEW))
        .when(leaves | (change == DISPLACED))
        .then(pl.lit(DESELECT))
        .when(pl.col("is_current_key_account"))
        .then(pl.lit(KEEP))
        .when(change.is_in([FREE_SEAT, REPLACES]))
        .then(pl.lit(ADD))
        .when(change.is_in([CAPPED, BLOCKED_BY_GRACE]))
        .then(pl.lit(WATCH))
        .when(pl.col("selectable") & (points_below_cutoff() <= settings.watch_band))
        .then(pl.lit(WATCH))
        .otherwise(pl.lit(NONE))
    )


def decision(review: bool) -> pl.Expr:
    """At a review the proposal; between reviews every current key account
    stays (KEEP) and a proposed newcomer is watched (§K5.2)."""
    proposed = pl.col("proposed_decision")
    if review:
        return proposed
    return (
        pl.when(pl.col("is_current_key_account"))
        .then(pl.lit(KEEP))
        .when(proposed.is_in([ADD, WATCH]))
        .then(pl.lit(WATCH))
        .otherwise(pl.lit(NONE))
    )


def _proposal_reason(max_key_accounts: int, settings: KamSettings) -> pl.Expr:
    """The body of the proposed decision's reason: the figures it rests on (§K5.6)."""
    change = pl.col("change")
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
    within = pl.format("{}, within {} ({})", standing, capacity, cutoff)
    beyond = pl.format("{}, beyond {} ({})", standing, capacity, cutoff)
    cap = pl.format("the turnover cap of {} changes per review", pl.col("turnover_seats"))
    grace = pl.format(
        "a key account only since {} ({} months), inside the {}-month grace period",
        pl.col("key_account_since"),
        months_in_programme(),
        pl.lit(settings.grace_months),
    )
    band = pl.when(pl.col("proposed_decision") == WATCH).then(pl.lit("within")).otherwise(pl.lit("outside"))
    distance = pl.format(
        "{}, {} points below the cut-off, {} the watch band of {}",
        beyond,
        fixed(points_below_cutoff()),
        band,
        fixed(pl.lit(settings.watch_band)),
    )
    leaving = pl.when(change == INELIGIBLE).then(pl.format("not eligible: {}", pl.col("ineligible_reason")))
    leaving = leaving.otherwise(pl.format("{}; more eligible key accounts than seats", beyond))
    return (
        pl.when(change.is_in([INELIGIBLE, OVER_CAPACITY]) & pl.col("in_grace"))
        .then(pl.format("would be deselected ({}), but {}", leaving, grace))
        .when(change.is_in([INELIGIBLE, OVER_CAPACITY]))
        .then(leaving)
        .when(change == DISPLACED)
        .then(pl.format("{}; replaced by {}, a stronger candidate", beyond, pl.col("counterpart")))
        .when(change == HELD_BY_CAP)
        .then(pl.format("{}, but kept: {} is used by stronger cases", beyond, cap))
        .when(pl.col("is_current_key_account") & pl.col("in_grace") & ~pl.col("ideal"))
        .then(pl.format("{}, but kept: {}", beyond, grace))
        .when(pl.col("is_current_key_account"))
        .then(within)
        .when(change == FREE_SEAT)
        .then(pl.format("{}; takes a free seat", within))
        .when(change == REPLACES)
        .then(pl.format("{}; replaces {}", within, pl.col("counterpart")))
        .when(change == CAPPED)
        .then(pl.format("{}, but {} is reached; next in line for a seat", within, cap))
        .when(change == BLOCKED_BY_GRACE)
        .then(pl.format("{}, but the seats it could take are held by key accounts inside their grace period", within))
        .when(~pl.col("eligible"))
        .then(pl.format("not eligible: {}", pl.col("ineligible_reason")))
        .otherwise(distance)
    )


def decision_reason(review_day: date, review: bool) -> pl.Expr:
    """One sentence: the decision's label and `reason_body`, the figures of
    the proposal; between reviews, what the review of `review_day` would
    change."""
    label = pl.col("decision").replace_strict(_LABELS, return_dtype=pl.String)
    body = pl.col("reason_body")
    if review:
        return pl.format("{}: {}.", label, body)
    pending = pl.format(
        "{} until the review of {}; proposed {}: {}.",
        label,
        pl.lit(review_day.isoformat()),
        pl.col("proposed_decision"),
        body,
    )
    return (
        pl.when(pl.col("decision") == pl.col("proposed_decision"))
        .then(pl.format("{}: {}.", label, body))
        .otherwise(pending)
    )


def decide(ranked: pl.DataFrame, settings: KamSettings, review_day: date, review: bool) -> pl.DataFrame:
    """`ranked` (selection.rank_for_selection) plus proposed_decision,
    decision and review_date (§K5); the reasons are `with_reason_body` and
    `decision_reason`, kept apart because a ranking whose decisions only a
    few rows show needs them only on those rows."""
    return ranked.with_columns(
        proposed_decision=proposed_decision(settings), review_date=pl.lit(review_day)
    ).with_columns(decision=decision(review))


def with_reason_body(decided: pl.DataFrame, max_key_accounts: int, settings: KamSettings) -> pl.DataFrame:
    """`decided` (`decide`) plus reason_body: the figures the proposal rests on."""
    return decided.with_columns(reason_body=_proposal_reason(max_key_accounts, settings))
