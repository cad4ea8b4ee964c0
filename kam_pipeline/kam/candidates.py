"""kam_candidates: eligibility, score and decision of every customer of one snapshot.

Composes eligibility (§K3), the score over the eligible pool (§K2), capacity
and selection (§K4), the review rhythm and the decisions (§K5), the
committee's overrides (§K5.8), and explains each decision: the points each
factor gave, what held the customer back (§K5.6) and how robust the
decision is to the weights (§K5.7) in docs/methodology.md.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from kam_pipeline.figures import percent_expr
from kam_pipeline.kam.decisions import (
    KAM_SERVED_DECISIONS,
    decide,
    decision_reason,
    points_below_cutoff,
    with_reason_body,
)
from kam_pipeline.kam.eligibility import eligibility
from kam_pipeline.kam.explain import held_back, held_back_by
from kam_pipeline.kam.kam_team import key_account_capacity, team
from kam_pipeline.kam.overruling import overrule, with_overrides
from kam_pipeline.kam.review import is_review, review_date
from kam_pipeline.kam.robustness import selection_stability
from kam_pipeline.kam.scoring import kam_score
from kam_pipeline.kam.selection import rank_for_selection
from kam_pipeline.kam.snapshot import snapshot_date
from kam_pipeline.kam.tables import KAM_CANDIDATES
from kam_pipeline.settings import KamSettings

#: The columns of marts.customer_segments that eligibility, score, decisions
#: and reasons read: selecting them first keeps every intermediate frame of
#: the selection at 19 of the 43 columns (at 1 M accounts, 0.6 GB less at the
#: peak and a second faster).
SELECTION_INPUTS = (
    "customer_id",
    "customer_name",
    "as_of_date",
    "industry",
    "is_current_key_account",
    "key_account_since",
    "revenue_t12m",
    "revenue_share",
    "margin_t12m",
    "margin_pct",
    "margin_coverage",
    "growth_pct",
    "segment_class",
    "potential_class",
    "potential_value",
    "competitive_position",
    "wallet",
    "wallet_source",
    "wallet_below_revenue",
)

#: The columns of each input frame select_key_accounts reads: the selection's,
#: and those the KAM managers' own portfolio hours rest on (§K4). Its asset
#: reads only these (a test holds them to the function).
SELECTION_READS = {"segments": (*SELECTION_INPUTS, "owner_id", "potential_driver", "tier", "at_risk")}


def select_key_accounts(
    segments: pl.DataFrame,
    managers: pl.DataFrame,
    settings: KamSettings,
    *,
    overrides: pl.DataFrame | None = None,
    currency: str = "EUR",
) -> pl.DataFrame:
    """One row per customer of `segments` (one snapshot of marts.customer_segments), sorted by customer_id.

    `managers` is staging.account_managers; the KAM team's hours net of its
    own portfolio bound the number of KEEP + ADD decisions. `overrides` are
    the committee's INCLUDE and EXCLUDE overrides in force, one per customer
    (overrides.forced_selection); `currency` names the amounts in reasons.
    """
    # Without customers nothing is decided, and any valid day serves for the (empty) arithmetic.
    as_of = snapshot_date(segments, "customer_segments") or date.today()
    seats = key_account_capacity(team(managers, settings), segments, settings)
    pool = segments.select(SELECTION_INPUTS)
    scored = with_overrides(kam_score(eligibility(pool, settings), settings), overrides)
    review_day, review = review_date(as_of, settings), is_review(as_of, settings)

    def decided(frame: pl.DataFrame) -> pl.DataFrame:
        return decide(rank_for_selection(frame, seats, settings, as_of), settings, review_day, review)

    by_rule = decided(scored.with_columns(selectable=pl.col("eligible")))
    if overrides is None or overrides.is_empty():
        overridden = by_rule = with_reason_body(by_rule, seats, settings)
    else:
        overridden = with_reason_body(decided(scored), seats, settings)
        by_rule = _with_rule_reasons(by_rule, overridden, seats, settings)
    rule = by_rule.select(
        "customer_id",
        rule_proposed_decision="proposed_decision",
        rule_decision="decision",
        rule_reason_body="reason_body",
    )
    overruled = overrule(overridden.join(rule, on="customer_id", validate="1:1"), seats)
    return (
        overruled.join(selection_stability(overruled, seats, settings), on="customer_id", validate="1:1")
        .with_columns(
            points_to_cutoff=pl.when(pl.col("selectable")).then(points_below_cutoff()),
            held_back_by=pl.when(pl.col("eligible")).then(held_back_by(settings)),
        )
        .pipe(_with_explanations, settings, currency)
        .with_columns(decision_reason=decision_reason(review_day, review))
        .pipe(KAM_CANDIDATES.conform)
        .sort("customer_id")
    )


def _with_rule_reasons(
    by_rule: pl.DataFrame, overridden: pl.DataFrame, seats: int, settings: KamSettings
) -> pl.DataFrame:
    """`by_rule` (the decisions of the ranking without overrides) plus
    reason_body on the rows whose reason `overrule` can quote: the overridden
    customers, the seated ones (only they can give way to an INCLUDE) and
    those the overrides moved. Null elsewhere: at a million customers the
    other rows' reasons cost about half a second and are never read."""
    served = list(KAM_SERVED_DECISIONS)
    seated_or_moved = overridden.select(
        "customer_id",
        quoted=pl.col("override_action").is_not_null()
        | pl.col("proposed_decision").is_in(served)
        | pl.col("decision").is_in(served),
        _proposed="proposed_decision",
        _decision="decision",
    )
    marked = by_rule.join(seated_or_moved, on="customer_id", validate="1:1", maintain_order="left").with_columns(
        quoted=pl.col("quoted")
        | (pl.col("proposed_decision") != pl.col("_proposed"))
        | (pl.col("decision") != pl.col("_decision"))
    )
    quoted = with_reason_body(marked.filter("quoted"), seats, settings).select("customer_id", "reason_body")
    return marked.drop("quoted", "_proposed", "_decision").join(
        quoted, on="customer_id", how="left", validate="1:1", maintain_order="left"
    )


def _outside_ideal() -> pl.Expr:
    """Eligible, outside the ideal programme and not overridden: its reason says what held it back."""
    return pl.col("eligible") & ~pl.col("ideal") & pl.col("override_action").is_null()


def _with_explanations(frame: pl.DataFrame, settings: KamSettings, currency: str) -> pl.DataFrame:
    """`reason_body` extended by `_explained`, computed only for the rows it
    changes (customers held back or marginal): a few thousand of a million
    customers, where formatting every row cost seconds."""
    needs = frame.select((_outside_ideal() | pl.col("marginal")).fill_null(False)).to_series()
    if not needs.any():
        return frame
    subset = frame.filter(needs)
    subset = subset.with_columns(_held_back=held_back(subset, settings, currency))
    explained = subset.select("customer_id", reason_body=_explained(pl.col("_held_back"), settings))
    return frame.update(explained, on="customer_id")


def _explained(why: pl.Expr, settings: KamSettings) -> pl.Expr:
    """The reason's body, plus `why` an eligible customer outside the ideal
    programme was held back and, for a marginal decision, how often it flips."""
    outside = _outside_ideal() & why.is_not_null()
    body = pl.when(outside).then(pl.format("{}; {}", pl.col("reason_body"), why))
    body = body.otherwise(pl.col("reason_body"))
    marginal = pl.format(
        "{}; MARGINAL: selected in {} of {} weight variations",
        body,
        percent_expr(pl.col("selection_stability")),
        pl.lit(settings.robustness_draws),
    )
    return pl.when(pl.col("marginal")).then(marginal).otherwise(body)
