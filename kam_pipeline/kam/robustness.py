"""How robust each selection is: would a small change of the weights change it?

The selection is re-run under `robustness_draws` variations of the score
weights (each weight times U(1 − spread, 1 + spread), renormalised to the
same total), from a fixed seed so reruns agree. A customer's
`selection_stability` is the share of variations in which it is in the
ideal programme; a decision that flips in more than `marginal_share` of them
is MARGINAL (methodology §K5.7). Vectorised: a matrix product and a partial
sort per block of variations.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from kam_pipeline.kam.scoring import FACTORS, weights
from kam_pipeline.settings import KamSettings


def weight_draws(settings: KamSettings) -> np.ndarray:
    """factors x draws: the perturbed weights, each column summing to the settings' total."""
    base = np.array(list(weights(settings).values()))
    rng = np.random.default_rng(settings.robustness_seed)
    spread = settings.robustness_spread
    draws = base[:, None] * rng.uniform(1 - spread, 1 + spread, (base.size, settings.robustness_draws))
    totals = draws.sum(axis=0)
    return np.divide(draws * base.sum(), totals, out=np.zeros_like(draws), where=totals > 0)


#: Variations evaluated at once: bounds the score matrix to pool × BLOCK values.
BLOCK = 25


def _top(keys: np.ndarray, take: int) -> np.ndarray:
    """Per column of `keys` (pool × variations), a 0/1 count of being among the `take` largest."""
    chosen = np.zeros(keys.shape, dtype=np.int64)
    if take <= 0:
        return chosen
    top = np.argpartition(-keys, take - 1, axis=0)[:take]
    np.put_along_axis(chosen, top, 1, axis=0)
    return chosen


def _contenders(factors: np.ndarray, bonus: np.ndarray, take: int, settings: KamSettings) -> np.ndarray:
    """Rows that can be among the `take` best under some variation.

    A renormalised weight stays within [w × (1 − s)/(1 + s), w × (1 + s)/(1 − s)]
    of its base w (s = robustness_spread), which bounds every customer's
    score over all variations. A customer whose highest possible score is
    below the `take`-th highest lowest possible score is out of every
    variation's programme: its stability is 0, exactly as if evaluated, and
    a million customers cost only their bounds (methodology §K5.7)."""
    spread = settings.robustness_spread
    if spread >= 1 or take >= len(factors):
        return np.ones(len(factors), dtype=bool)
    base = np.array(list(weights(settings).values()))
    total = base.sum() or 1.0
    low = factors * (100 * base * (1 - spread) / (1 + spread) / total)
    high = factors * (100 * base * (1 + spread) / (1 - spread) / total)
    lowest = np.minimum(low, high).sum(axis=1) + bonus
    highest = np.maximum(low, high).sum(axis=1) + bonus
    threshold = np.partition(lowest, len(lowest) - take)[len(lowest) - take]
    return highest >= threshold - 0.02  # scores are rounded to cents of a point: keep a margin for it


def _stability(pool: pl.DataFrame, seats: int, settings: KamSettings) -> np.ndarray:
    """Share of the weight variations in which each pool row is among the `seats` best."""
    draws = weight_draws(settings)
    counts = np.zeros(pool.height, dtype=np.int64)
    take = min(seats, pool.height)
    if not pool.height or take <= 0 or draws.shape[1] == 0:
        return counts.astype(np.float64)
    factors = pool.select(f"factor_{name}" for name in FACTORS).to_numpy()
    bonus = np.where(pool.get_column("is_current_key_account").to_numpy(), settings.incumbent_bonus, 0.0)
    total = sum(weights(settings).values()) or 1.0
    # ties go to the lower customer id (rows are sorted by id): an integer key breaks them exactly
    order = (pool.height - np.arange(pool.height))[:, None]
    rows = np.flatnonzero(_contenders(factors, bonus, take, settings))
    factors, bonus, order = factors[rows], bonus[rows], order[rows]
    for first in range(0, draws.shape[1], BLOCK):
        scores = np.round(100 * factors @ draws[:, first : first + BLOCK] / total, 2) + bonus[:, None]
        keys = np.round(scores * 100).astype(np.int64) * (pool.height + 1) + order
        counts[rows] += _top(keys, take).sum(axis=1)
    return counts / draws.shape[1]


def selection_stability(overruled: pl.DataFrame, seats: int, settings: KamSettings) -> pl.DataFrame:
    """customer_id, selection_stability and marginal for every customer of `overruled`.

    The pool is the selectable customers without an INCLUDE override; they
    compete for the seats the INCLUDEs leave. selection_stability is the
    share of variations in which a customer is among the best of the pool
    (1.0 for an INCLUDE, 0.0 for anyone else outside the pool, null outside
    the universe); `marginal` marks pool customers whose place in or out of
    the ideal programme flips in more than `marginal_share` of them.
    """
    included = (pl.col("override_action") == "INCLUDE").fill_null(False)
    in_pool = pl.col("selectable") & ~included & pl.col("score").is_not_null()
    pool = overruled.filter(in_pool).sort("customer_id")
    free = max(seats - int(overruled.select(included.sum()).item()), 0)
    ideal = pool.select("customer_id", "selection_score").sort(
        ["selection_score", "customer_id"], descending=[True, False]
    )
    pool = pool.select("customer_id").with_columns(
        _stability=pl.Series(_stability(pool, free, settings), dtype=pl.Float64),
        _ideal=pl.col("customer_id").is_in(ideal.head(free).get_column("customer_id").implode()),
    )
    flips = pl.when(pl.col("_ideal")).then(1 - pl.col("_stability")).otherwise(pl.col("_stability"))
    return (
        overruled.select("customer_id", "score", included.alias("_included"))
        .join(pool, on="customer_id", how="left")
        .select(
            "customer_id",
            selection_stability=pl.when(pl.col("_included"))
            .then(1.0)
            .when(pl.col("_stability").is_not_null())
            .then(pl.col("_stability"))
            .when(pl.col("score").is_not_null())
            .then(0.0),
            marginal=(flips > settings.marginal_share).fill_null(False),
        )
    )
