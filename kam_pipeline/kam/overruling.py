"""How the committee's INCLUDE and EXCLUDE overrides change the ranking's decisions.

Applied after scoring and ranking, to the proposal and to what holds now
alike (an override is a committee decision: it does not wait for a review).
An EXCLUDE takes the customer out of the pool (`selectable`, before the
ranking) and out of the programme; an INCLUDE gives the customer a seat. A
seat an INCLUDE takes that the ranking did not already give is freed by
the lowest-ranked customer seated by the ranking, which gives way with a
reason naming the override; when the INCLUDEs alone exceed the seats all of
them are kept and the snapshot is OVER_CAPACITY (methodology §K5.8).
"""

from __future__ import annotations

import polars as pl

from kam_pipeline.kam.decisions import ADD, DESELECT, KAM_SERVED_DECISIONS, KEEP, NONE, WATCH
from kam_pipeline.kam.overrides import EXCLUDE, INCLUDE, OVERRIDE, RULE

#: The per-customer override columns the ranking is given (overrides.forced_selection).
#: Sorts after every selection rank: a seated customer without one gives way first.
UNRANKED = 2**62
OVERRIDE_COLUMNS = {"override_action": pl.String, "override_id": pl.String, "override_text": pl.String}


def with_overrides(scored: pl.DataFrame, forced: pl.DataFrame | None) -> pl.DataFrame:
    """`scored` plus override_action, override_id, override_text (null without
    an override) and `selectable` (eligible and not excluded)."""
    if forced is None:
        forced = pl.DataFrame(schema={"customer_id": pl.String, **OVERRIDE_COLUMNS})
    joined = scored.join(forced, on="customer_id", how="left", validate="1:1", maintain_order="left")
    return joined.with_columns(selectable=pl.col("eligible") & (pl.col("override_action") != EXCLUDE).fill_null(True))


def forced_in() -> pl.Expr:
    return (pl.col("override_action") == INCLUDE).fill_null(False)


def forced_out() -> pl.Expr:
    return (pl.col("override_action") == EXCLUDE).fill_null(False)


def _overruled(column: str, seats: int) -> tuple[pl.Expr, pl.Expr]:
    """(the decision in `column` after the overrides, gives_way) for one decision column."""
    incumbent = pl.col("is_current_key_account")
    seated = pl.col(column).is_in(list(KAM_SERVED_DECISIONS)) & ~forced_out()
    newly_in = forced_in() & ~seated
    stays = seated & ~forced_in()
    # seats the ranking already fills stay filled; an INCLUDE beyond them needs one freed
    allowed = pl.max_horizontal(pl.lit(seats, pl.Int64), seated.sum().cast(pl.Int64))
    over = pl.max_horizontal(stays.sum().cast(pl.Int64) + forced_in().sum().cast(pl.Int64) - allowed, pl.lit(0))
    # ineligible key accounts (no rank) go first, then from the lowest rank up; rows are in ranking order
    lowest_first = pl.when(stays).then(pl.col("selection_rank").fill_null(UNRANKED)).rank("ordinal", descending=True)
    gives_way = stays & (lowest_first <= over).fill_null(False) & newly_in.any()
    decision = (
        pl.when(forced_in())
        .then(pl.when(incumbent).then(pl.lit(KEEP)).otherwise(pl.lit(ADD)))
        .when(forced_out())
        .then(pl.when(incumbent).then(pl.lit(DESELECT)).otherwise(pl.lit(NONE)))
        .when(gives_way)
        .then(pl.when(incumbent).then(pl.lit(DESELECT)).otherwise(pl.lit(WATCH)))
        .otherwise(pl.col(column))
    )
    return decision, gives_way


def overrule(decided: pl.DataFrame, seats: int) -> pl.DataFrame:
    """`decided` (decisions.decide over the ranking with overrides, plus
    rule_proposed_decision, rule_decision and rule_reason_body from the
    ranking without them) with the overrides applied to proposed_decision and
    decision, reason_body explaining them, decision_source (RULE or OVERRIDE)
    and over_capacity (the INCLUDEs alone exceed the seats)."""
    proposed, proposed_gives_way = _overruled("proposed_decision", seats)
    now, now_gives_way = _overruled("decision", seats)
    includes = decided.filter(forced_in() & ~pl.col("rule_proposed_decision").is_in(list(KAM_SERVED_DECISIONS)))
    takers = ", ".join(f"{o} ({c})" for o, c in includes.select("override_id", "customer_id").iter_rows())
    rule = pl.format("by the ranking alone {}: {}", pl.col("rule_proposed_decision"), pl.col("rule_reason_body"))
    over_capacity = int(decided.select(forced_in().sum()).item()) > seats
    crowded = f"; the INCLUDE overrides alone exceed the {seats} seats (OVER_CAPACITY)" if over_capacity else ""
    body = (
        pl.when(forced_in())
        .then(pl.format("included by {}{}; {}", pl.col("override_text"), pl.lit(crowded), rule))
        .when(forced_out())
        .then(pl.format("excluded by {}; {}", pl.col("override_text"), rule))
        .when(pl.col("_gives_way"))
        .then(pl.format("gives way to the seat(s) taken by INCLUDE override(s) {}; {}", pl.lit(takers), rule))
        .otherwise(pl.col("reason_body"))
    )
    changed = (pl.col("proposed_decision") != pl.col("rule_proposed_decision")) | (
        pl.col("decision") != pl.col("rule_decision")
    )
    return (
        decided.with_columns(
            proposed_decision=proposed,
            decision=now,
            _gives_way=proposed_gives_way | now_gives_way,
        )
        .with_columns(
            reason_body=pl.when(changed | forced_in() | forced_out()).then(body).otherwise(pl.col("reason_body")),
            decision_source=pl.when(changed).then(pl.lit(OVERRIDE)).otherwise(pl.lit(RULE)),
            over_capacity=pl.lit(over_capacity),
        )
        .drop("_gives_way")
    )
