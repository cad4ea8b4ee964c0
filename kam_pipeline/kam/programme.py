"""KAM programme return: did the key accounts' margin grow more than comparable customers', and
did that pay for the KAM time? One row per snapshot (methodology §K7).

A before/after comparison against a control group chosen on prior-period
facts only (not on the outcome it measures): an indication, not proof of
causation (§K7.3).
"""

from __future__ import annotations

import polars as pl

from kam_pipeline.kam.decisions import ADD, DESELECT, KEEP, REVIEW, WATCH
from kam_pipeline.kam.eligibility import A_CLASS
from kam_pipeline.kam.kam_team import key_account_capacity, mean_kam_hourly_cost, team
from kam_pipeline.kam.overrides import EXCLUDE, INCLUDE
from kam_pipeline.kam.review import review_date, turnover_seats
from kam_pipeline.kam.snapshot import snapshot_date
from kam_pipeline.kam.tables import KAM_PROGRAMME
from kam_pipeline.segmentation.amounts import TOTAL_AMOUNT, to_amount
from kam_pipeline.segmentation.growth import growth_pct
from kam_pipeline.segmentation.pareto import pareto_abc
from kam_pipeline.settings import KamSettings, SegmentationSettings


def _group_totals(prefix: str, members: pl.Expr) -> dict[str, pl.Expr]:
    """Summed revenue and margin, current and prior window, of one group of customers."""
    return {
        f"{prefix}_{measure}_{window}": to_amount(pl.col(f"{measure}_{window}").filter(members).sum(), TOTAL_AMOUNT)
        for measure in ("revenue", "margin")
        for window in ("t12m", "prior")
    }


def prior_leaders(segments: pl.DataFrame, settings: KamSettings) -> pl.DataFrame:
    """customer_id of the customers that carried the top `control_prior_share`
    of prior-window revenue: the Pareto A class of §S4 on revenue_prior (§K7.1)."""
    cut = SegmentationSettings(abc_a_cut=settings.control_prior_share, abc_b_cut=1.0)
    ranked = pareto_abc(segments, "revenue_prior", cut)
    return ranked.filter(pl.col("abc_class") == A_CLASS).select("customer_id")


#: The columns of each input frame programme_return reads (its asset reads only these).
PROGRAMME_READS = {
    "segments": (
        "customer_id",
        "as_of_date",
        "owner_id",
        "revenue_t12m",
        "revenue_prior",
        "margin_t12m",
        "margin_prior",
        "segment_class",
        "wallet_source",
        "potential_driver",
        "potential_class",
        "tier",
        "at_risk",
        "is_current_key_account",
    ),
    "candidates": ("customer_id", "decision", "proposed_decision", "override_action"),
}


def programme_return(
    segments: pl.DataFrame, candidates: pl.DataFrame, managers: pl.DataFrame, settings: KamSettings
) -> pl.DataFrame:
    """One row: key accounts (the current ones, by the CRM flag) against the
    control group (customers that are not key accounts and carried the top
    control_prior_share of prior-window revenue), pending changes, KAM cost,
    incremental margin and ROI (§K7).

    kam_cost = key_accounts × hours_per_key_account × mean hourly_cost of the KAM managers;
    incremental_margin = key_margin_t12m − key_margin_prior × (1 + control_margin_growth);
    roi = (incremental_margin − kam_cost) / kam_cost, null when kam_cost is 0 or unknown.
    """
    as_of = snapshot_date(segments, "customer_segments")
    key = pl.col("is_current_key_account")
    leaders = prior_leaders(segments, settings).with_columns(_prior_leader=pl.lit(True))
    control = ~key & pl.col("_prior_leader").fill_null(False)
    decision, proposed = pl.col("decision"), pl.col("proposed_decision")
    managers = team(managers, settings)
    mean_cost = mean_kam_hourly_cost(managers)
    seats = key_account_capacity(managers, segments, settings)
    action = pl.col("override_action")
    totals = (
        segments.join(
            candidates.select("customer_id", "decision", "proposed_decision", "override_action"),
            on="customer_id",
            how="left",
            validate="1:1",
        )
        .join(leaders, on="customer_id", how="left")
        .select(
            as_of_date=pl.lit(as_of, dtype=pl.Date),
            review_date=pl.lit(review_date(as_of, settings) if as_of else None, dtype=pl.Date),
            max_key_accounts=pl.lit(seats, dtype=pl.Int64),
            turnover_seats=pl.lit(turnover_seats(seats, settings), dtype=pl.Int64),
            key_accounts=key.sum().cast(pl.Int64),
            keep=(decision == KEEP).sum().cast(pl.Int64),
            add=(decision == ADD).sum().cast(pl.Int64),
            review=(decision == REVIEW).sum().cast(pl.Int64),
            deselect=(decision == DESELECT).sum().cast(pl.Int64),
            watch=(decision == WATCH).sum().cast(pl.Int64),
            proposed_add=(proposed == ADD).sum().cast(pl.Int64),
            proposed_deselect=(proposed == DESELECT).sum().cast(pl.Int64),
            proposed_review=(proposed == REVIEW).sum().cast(pl.Int64),
            control_customers=control.sum().cast(pl.Int64),
            override_includes=(action == INCLUDE).sum().cast(pl.Int64),
            override_excludes=(action == EXCLUDE).sum().cast(pl.Int64),
            **_group_totals("key", key),
            **_group_totals("control", control),
        )
    )
    expected_margin = pl.col("key_margin_prior").cast(pl.Float64) * (1 + pl.col("control_margin_growth"))
    kam_cost = pl.col("key_accounts") * settings.hours_per_key_account * pl.lit(mean_cost, dtype=pl.Float64)
    return (
        totals.with_columns(
            key_revenue_growth=growth_pct("key_revenue_t12m", "key_revenue_prior"),
            key_margin_growth=growth_pct("key_margin_t12m", "key_margin_prior"),
            control_revenue_growth=growth_pct("control_revenue_t12m", "control_revenue_prior"),
            control_margin_growth=growth_pct("control_margin_t12m", "control_margin_prior"),
            kam_cost=to_amount(kam_cost, TOTAL_AMOUNT),
        )
        .with_columns(
            incremental_margin=pl.col("key_margin_t12m") - to_amount(expected_margin, TOTAL_AMOUNT),
            over_capacity=pl.col("override_includes") > pl.col("max_key_accounts"),
        )
        .with_columns(
            roi=pl.when(pl.col("kam_cost") > 0).then(
                (pl.col("incremental_margin") - pl.col("kam_cost")).cast(pl.Float64)
                / pl.col("kam_cost").cast(pl.Float64)
            )
        )
        .pipe(KAM_PROGRAMME.conform)
    )
