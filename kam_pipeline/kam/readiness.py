"""Programme readiness: is this portfolio ready for a KAM programme, or should
account management be strengthened first?

KAM built on weak account management is a tower built on sand, and a
portfolio without clearly strategic customers is better served by good
account management than by a programme. One row per as-of date: how
concentrated revenue is, how clearly the selected customers stand out, how
complete the inputs the selection relies on are, how well account
management covers the A and B customers, how stable the selection is, and
a verdict with its reasons (methodology §K12).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from kam_pipeline.figures import percent
from kam_pipeline.kam.allocation import FULL, POOLED
from kam_pipeline.kam.decisions import KAM_SERVED_DECISIONS
from kam_pipeline.kam.overrides import RULE
from kam_pipeline.kam.snapshot import snapshot_date
from kam_pipeline.kam.tables import KAM_READINESS
from kam_pipeline.segmentation.potential import CRM, MIXED
from kam_pipeline.settings import KamSettings, ReadinessSettings

READY = "READY"
STRENGTHEN = "STRENGTHEN_ACCOUNT_MANAGEMENT_FIRST"
DATA_TOO_THIN = "DATA_TOO_THIN"
REASON_SEPARATOR = "; "
#: The percentage of customers (the largest) whose revenue share measures concentration.
TOP_PERCENT = 20


def gini(values: list[float]) -> float | None:
    """Gini coefficient of non-negative values: 0 when all are equal, towards
    1 when one carries everything; None without a positive total.

    G = 2 Σ i·x_(i) / (n Σ x) − (n + 1) / n, x ascending, i = 1..n.
    """
    xs = sorted(values)
    n, total = len(xs), sum(xs)
    if n == 0 or total <= 0:
        return None
    return 2 * sum(i * x for i, x in enumerate(xs, start=1)) / (n * total) - (n + 1) / n


def top_share(values: list[float], percent: int = TOP_PERCENT) -> float | None:
    """Share of the total carried by the largest ceil(percent × n / 100) values (at least one)."""
    xs = sorted(values, reverse=True)
    total = sum(xs)
    if not xs or total <= 0:
        return None
    count = max(1, -(-len(xs) * percent // 100))
    return sum(xs[:count]) / total


def _share(part: pl.Expr, whole: pl.Expr) -> pl.Expr:
    return pl.when(whole > 0).then(part / whole)


@dataclass(frozen=True)
class Check:
    """One readiness test: its figure, whether it passes, and the sentence either way."""

    name: str
    value: float | None
    passed: bool
    text: str


def _at_least(name: str, value: float | None, minimum: float, what: str, fmt=percent) -> Check:
    if value is None:
        return Check(name, None, False, f"{what}: unknown")
    relation = "at least" if value >= minimum else "below"
    return Check(name, value, value >= minimum, f"{what} {fmt(value)}, {relation} the minimum of {fmt(minimum)}")


def _at_most(name: str, value: float | None, maximum: float, what: str) -> Check:
    if value is None:
        return Check(name, None, True, f"{what}: none")
    relation = "within" if value <= maximum else "above"
    return Check(
        name, value, value <= maximum, f"{what} {percent(value)}, {relation} the maximum of {percent(maximum)}"
    )


def _points(value: float) -> str:
    return f"{value:.2f} points"


#: The columns of each input frame programme_readiness reads (its asset reads only these).
READINESS_READS = {
    "segments": (
        "customer_id",
        "as_of_date",
        "revenue_t12m",
        "margin_coverage",
        "segment_class",
        "wallet_source",
        "at_risk",
        "competitive_position",
    ),
    "candidates": (
        "customer_id",
        "score",
        "eligible",
        "proposed_decision",
        "decision_source",
        "marginal",
        "selection_rank",
    ),
    "allocation": ("customer_id", "coverage"),
}


def programme_readiness(
    segments: pl.DataFrame,
    candidates: pl.DataFrame,
    allocation: pl.DataFrame,
    kam: KamSettings,
    settings: ReadinessSettings,
) -> pl.DataFrame:
    """One row of marts.kam_readiness for the snapshot (§K12)."""
    frame = segments.join(
        candidates.select(
            "customer_id", "eligible", "score", "proposed_decision", "decision_source", "marginal", "selection_rank"
        ),
        on="customer_id",
        validate="1:1",
    ).join(allocation.select("customer_id", "coverage"), on="customer_id", how="left", validate="1:1")
    revenue = frame.filter(pl.col("revenue_t12m") > 0).get_column("revenue_t12m").cast(pl.Float64).to_list()
    a_class = pl.col("segment_class") == "A"
    a_or_b = pl.col("segment_class").is_in(["A", "B"])
    amount = pl.col("revenue_t12m").cast(pl.Float64)

    def a_revenue_share(part: pl.Expr) -> pl.Expr:
        return _share((amount * part).filter(a_class).sum(), amount.filter(a_class).sum())

    def ab_share(condition: pl.Expr) -> pl.Expr:
        return _share((a_or_b & condition).sum().cast(pl.Float64), a_or_b.sum().cast(pl.Float64))

    served = pl.col("proposed_decision").is_in(list(KAM_SERVED_DECISIONS))
    picks = served & pl.col("eligible") & (pl.col("decision_source") == RULE)
    figures = frame.select(
        eligible=pl.col("eligible").sum().cast(pl.Int64),
        key_accounts=served.sum().cast(pl.Int64),
        last_pick_score=pl.col("score").filter(picks).min(),
        median_eligible_score=pl.col("score").filter(pl.col("eligible")).median(),
        wallet=a_revenue_share(pl.col("wallet_source").is_in([CRM, MIXED]).fill_null(False).cast(pl.Float64)),
        cost=a_revenue_share(pl.col("margin_coverage").fill_null(0.0)),
        position=a_revenue_share(pl.col("competitive_position").is_not_null().cast(pl.Float64)),
        am_coverage=ab_share(pl.col("coverage").is_in([FULL, POOLED]).fill_null(False)),
        at_risk=ab_share(pl.col("at_risk").fill_null(False)),
        stable=_share((picks & ~pl.col("marginal")).sum().cast(pl.Float64), picks.sum().cast(pl.Float64)),
        marginal=pl.col("marginal").sum().cast(pl.Int64),
    ).row(0, named=True)
    gap = (
        figures["last_pick_score"] - figures["median_eligible_score"]
        if figures["last_pick_score"] is not None and figures["median_eligible_score"] is not None
        else None
    )
    concentration = top_share(revenue)
    data = [
        _at_least("wallet", figures["wallet"], settings.min_input_coverage, "A revenue with a CRM wallet")
        if kam.weight_potential > 0
        else None,
        _at_least("cost", figures["cost"], settings.min_input_coverage, "A revenue with a known cost")
        if kam.weight_margin > 0
        else None,
        _at_least("position", figures["position"], settings.min_input_coverage, "A revenue with a competitive position")
        if kam.weight_position > 0
        else None,
    ]
    data_checks = [c for c in data if c is not None]
    if not figures["eligible"]:
        data_checks.append(Check("eligible", 0, False, "no eligible customer"))
    foundation = [
        _at_least("concentration", concentration, settings.min_top20_share, "the top 20 % of customers carry"),
        _at_least("gap", gap, settings.min_score_gap, "the last pick's lead over the median eligible", _points),
        _at_least("am", figures["am_coverage"], settings.min_am_coverage, "A/B customers whose hours are covered"),
        _at_most("risk", figures["at_risk"], settings.max_at_risk_share, "A/B customers at risk"),
        _at_least("stable", figures["stable"], settings.min_stable_share, "picks that are not marginal"),
    ]
    failed_data = [c for c in data_checks if not c.passed]
    failed_foundation = [c for c in foundation if not c.passed]
    if failed_data:
        verdict, reasons = DATA_TOO_THIN, failed_data
    elif failed_foundation:
        verdict, reasons = STRENGTHEN, failed_foundation
    else:
        verdict, reasons = READY, [*data_checks, *foundation]
    return pl.DataFrame(
        {
            "as_of_date": [snapshot_date(segments, "customer_segments")],
            "customers": [len(revenue)],
            "top20_revenue_share": [concentration],
            "revenue_gini": [gini(revenue)],
            "eligible_customers": [figures["eligible"]],
            "key_accounts": [figures["key_accounts"]],
            "last_pick_score": [figures["last_pick_score"]],
            "median_eligible_score": [figures["median_eligible_score"]],
            "score_gap": [gap],
            "wallet_coverage_a": [figures["wallet"]],
            "cost_coverage_a": [figures["cost"]],
            "position_coverage_a": [figures["position"]],
            "am_coverage_ab": [figures["am_coverage"]],
            "at_risk_share_ab": [figures["at_risk"]],
            "stable_pick_share": [figures["stable"]],
            "marginal_decisions": [figures["marginal"]],
            "verdict": [verdict],
            "verdict_reasons": [REASON_SEPARATOR.join(c.text for c in reasons)],
        }
    ).pipe(KAM_READINESS.conform)
