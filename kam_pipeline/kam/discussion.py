"""Decisions to discuss: what the KAM committee should look at first.

Overrides that contradict each other or end soon, INCLUDE overrides beyond
capacity, decisions a small change of the weights would reverse (MARGINAL)
and decisions an override changed, in that order (methodology §K5.7–§K5.8).
"""

from __future__ import annotations

import polars as pl

from kam_pipeline.kam.overrides import CONFLICT, OVERRIDE

OVER_CAPACITY, EXPIRING, MARGINAL, OVERRIDDEN = "OVER_CAPACITY", "EXPIRING", "MARGINAL", "OVERRIDDEN"
TOPICS = (OVER_CAPACITY, CONFLICT, EXPIRING, MARGINAL, OVERRIDDEN)
COLUMNS = {
    "topic": pl.String,
    "customer_id": pl.String,
    "customer_name": pl.String,
    "decision": pl.String,
    "proposed_decision": pl.String,
    "detail": pl.String,
}


def decisions_to_discuss(
    candidates: pl.DataFrame, overrides: pl.DataFrame, programme: pl.DataFrame, draws: int
) -> pl.DataFrame:
    """One row per point to discuss (COLUMNS), in the order of TOPICS, then by customer.

    `candidates` is marts.kam_candidates, `overrides` marts.kam_overrides,
    `programme` this snapshot's row of marts.kam_programme; `draws` the
    number of weight variations behind selection_stability.
    """
    who = candidates.select("customer_id", "customer_name", "decision", "proposed_decision")
    parts = []
    for row in programme.filter(pl.col("over_capacity")).iter_rows(named=True):
        includes, seats = row["override_includes"], row["max_key_accounts"]
        detail = f"{includes} INCLUDE overrides for {seats} seats: every ranked pick gives way"
        parts.append(pl.DataFrame({"topic": [OVER_CAPACITY], "detail": [detail]}))
    conflicts = (
        overrides.filter(pl.col("status") == CONFLICT)
        .group_by("customer_id")
        .agg(detail=pl.format("{} {}", pl.col("override_id"), pl.col("action")).sort().str.join(" and "))
        .with_columns(
            topic=pl.lit(CONFLICT), detail=pl.format("{} contradict each other; the ranking decides", "detail")
        )
    )
    expiring = overrides.filter(pl.col("expires_soon")).select(
        "customer_id",
        topic=pl.lit(EXPIRING),
        detail=pl.format(
            "{} {} ends on {} ({} days): renew or let it go", "override_id", "action", "valid_until", "days_to_expiry"
        ),
    )
    marginal = candidates.filter(pl.col("marginal")).select(
        "customer_id",
        topic=pl.lit(MARGINAL),
        detail=pl.format(
            "selected in {} % of {} weight variations",
            (pl.col("selection_stability") * 100).round(1),
            pl.lit(draws),
        ),
    )
    overridden = candidates.filter(pl.col("decision_source") == OVERRIDE).select(
        "customer_id",
        topic=pl.lit(OVERRIDDEN),
        detail=pl.format("the ranking alone proposes {}", "rule_proposed_decision"),
    )
    for part in (conflicts, expiring, marginal, overridden):
        parts.append(part.join(who, on="customer_id", how="left"))
    order = pl.col("topic").replace_strict({t: i for i, t in enumerate(TOPICS)}, return_dtype=pl.Int64)
    return pl.concat(
        [
            p.select(pl.col(c).cast(t) if c in p.columns else pl.lit(None, t).alias(c) for c, t in COLUMNS.items())
            for p in parts
        ]
    ).sort(order, "customer_id", nulls_last=False)
