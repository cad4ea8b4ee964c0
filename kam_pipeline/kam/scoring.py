"""KAM score: how a customer compares with the other candidates for a seat.

Each factor is a percent rank among the eligible candidates (§K3), so that
the score separates the customers KAM chooses between rather than the whole
customer base; the score is the weighted sum of the factors, in points
(methodology §K2).
"""

from __future__ import annotations

import polars as pl

from kam_pipeline.segmentation.pareto import in_universe
from kam_pipeline.segmentation.percent_rank import percent_rank_fraction
from kam_pipeline.segmentation.potential import UNKNOWN
from kam_pipeline.settings import KamSettings

#: Decimals of every score, bonus-adjusted score and score gap: the value
#: shown in a reason is the value compared.
SCORE_DECIMALS = 2

#: competitive_position runs from 1 (weak) to 5 (clearly the leading supplier).
POSITION_MIN = 1
POSITION_MAX = 5
#: Factor value of an unknown input (no prior revenue, unknown potential,
#: unrated position): the middle of the scale, neither rewarded nor punished.
NEUTRAL = 0.5

#: factor column -> (settings weight field, customer_segments column it ranks or maps).
FACTORS: dict[str, tuple[str, str]] = {
    "revenue": ("weight_revenue", "revenue_t12m"),
    "margin": ("weight_margin", "margin_t12m"),
    "potential": ("weight_potential", "potential_value"),
    "growth": ("weight_growth", "growth_pct"),
    "position": ("weight_position", "competitive_position"),
}
#: Factors that describe the customer (attractiveness); position describes us (strength).
MARKET_FACTORS = ("revenue", "margin", "potential", "growth")


def in_points(value: pl.Expr) -> pl.Expr:
    """Round a score (or a difference of scores) to SCORE_DECIMALS."""
    return value.round(SCORE_DECIMALS)


def pool_rank(column: str, known: pl.Expr) -> pl.Expr:
    """Percent rank of `column` among the eligible candidates whose value is
    known (§S8's PERCENT_RANK); a customer outside that pool is measured
    against it without entering it, capped at 1; unknown → NEUTRAL."""
    value = pl.col(column)
    below, spread = percent_rank_fraction(value, value.filter(pl.col("eligible") & known))
    rank = pl.min_horizontal(below.cast(pl.Float64) / spread.cast(pl.Float64), pl.lit(1.0))
    return pl.when(known).then(rank).otherwise(NEUTRAL)


def factor_values() -> dict[str, pl.Expr]:
    """Each factor in [0, 1] (§K2.1)."""
    position = pl.col("competitive_position")
    return {
        "revenue": pool_rank("revenue_t12m", pl.lit(True)),
        "margin": pool_rank("margin_t12m", pl.lit(True)),
        "potential": pool_rank("potential_value", pl.col("potential_class") != UNKNOWN),
        "growth": pool_rank("growth_pct", pl.col("growth_pct").is_not_null()),
        "position": ((position - POSITION_MIN) / (POSITION_MAX - POSITION_MIN)).fill_null(NEUTRAL),
    }


def weights(settings: KamSettings) -> dict[str, float]:
    return {factor: getattr(settings, field) for factor, (field, _) in FACTORS.items()}


def points(settings: KamSettings) -> dict[str, pl.Expr]:
    """`points_<factor>`: what each factor contributes to the score, 100 ×
    weight × factor / Σ weights, rounded like scores (§K2.3); they add up to
    the score within rounding."""
    w = weights(settings)
    total = sum(w.values())
    return {f"points_{name}": in_points(100 * w[name] * pl.col(f"factor_{name}") / total) for name in FACTORS}


def kam_score(candidates: pl.DataFrame, settings: KamSettings) -> pl.DataFrame:
    """`candidates` (with `eligible`, §K3) plus one `factor_<name>` and one
    `points_<name>` column per factor, `attractiveness`, `strength` and
    `score` (0–100); all null outside the universe (§K2)."""
    w = weights(settings)
    total = sum(w.values())
    market = sum(w[f] for f in MARKET_FACTORS)
    factor = {name: pl.col(f"factor_{name}") for name in FACTORS}
    scored = (
        candidates.filter(in_universe())
        .with_columns(**{f"factor_{name}": value for name, value in factor_values().items()})
        .select(
            "customer_id",
            *(f"factor_{name}" for name in FACTORS),
            **points(settings),
            attractiveness=(sum(w[f] * factor[f] for f in MARKET_FACTORS) / market) if market else pl.lit(None),
            strength=factor["position"],
            score=in_points(100 * sum(w[f] * factor[f] for f in FACTORS) / total),
        )
    )
    return candidates.join(scored, on="customer_id", how="left", validate="1:1", maintain_order="left")
