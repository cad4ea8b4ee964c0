"""KAM score: how attractive a customer is and how strong we are with it.

score = 100 × (w × attractiveness + (1 − w) × strength), computed for the
segmentation universe (§S4) only (methodology §K2).
"""

from __future__ import annotations

import polars as pl

from kam_pipeline.segmentation.pareto import in_universe
from kam_pipeline.segmentation.percent_rank import percent_rank
from kam_pipeline.settings import KamSettings

#: Decimals of every score, bonus-adjusted score and score gap: the value
#: shown in a reason is the value compared.
SCORE_DECIMALS = 2

#: competitive_position runs from 1 (weak) to 5 (clearly the leading supplier).
POSITION_MIN = 1
POSITION_MAX = 5
#: Strength assumed when sales has not rated the competitive position.
UNKNOWN_STRENGTH = 0.5


def in_points(value: pl.Expr) -> pl.Expr:
    """Round a score (or a difference of scores) to SCORE_DECIMALS."""
    return value.round(SCORE_DECIMALS)


def attractiveness(settings: KamSettings) -> pl.Expr:
    """Weighted mean of the percent ranks (§S8) of revenue, margin, potential and growth
    among the rows of the frame, i.e. the universe (§K2.1)."""
    weights = {
        "revenue_t12m": settings.weight_revenue,
        "margin_t12m": settings.weight_margin,
        "potential_value": settings.weight_potential,
        "growth_pct": settings.weight_growth,
    }
    weighted = pl.sum_horizontal(percent_rank(pl.col(column)) * weight for column, weight in weights.items())
    return weighted / sum(weights.values())


def strength() -> pl.Expr:
    """competitive_position mapped linearly 1 → 0 … 5 → 1; unknown → 0.5 (§K2.2)."""
    position = pl.col("competitive_position")
    return ((position - POSITION_MIN) / (POSITION_MAX - POSITION_MIN)).fill_null(UNKNOWN_STRENGTH)


def kam_score(segments: pl.DataFrame, settings: KamSettings) -> pl.DataFrame:
    """`segments` plus attractiveness, strength and score (0–100); all three null outside the universe (§K2)."""
    w = settings.attractiveness_weight
    scored = (
        segments.filter(in_universe())
        .select("customer_id", attractiveness=attractiveness(settings), strength=strength())
        .with_columns(score=in_points(100 * (w * pl.col("attractiveness") + (1 - w) * pl.col("strength"))))
    )
    return segments.join(scored, on="customer_id", how="left", validate="1:1", maintain_order="left")
