"""Why a customer is not in the ideal programme: the factor that held it back most.

Each factor could give up to 100 × weight / Σ weights points; the factor
that fell furthest short of its maximum is named with its points, its
maximum and the figure behind it, and the gap to the cut-off says how far
the customer is from a seat (methodology §K5.6).
"""

from __future__ import annotations

import polars as pl

from kam_pipeline.figures import fixed, money_expr, percent_expr
from kam_pipeline.kam.scoring import FACTORS, weights
from kam_pipeline.segmentation.potential import UNKNOWN
from kam_pipeline.settings import KamSettings


def _wallet_words() -> pl.Expr:
    return pl.col("wallet_source").replace_strict(
        {"CRM": "CRM wallet", "BENCHMARK": "benchmark wallet", "MIXED": "CRM and benchmark wallet"},
        default="wallet",
        return_dtype=pl.String,
    )


def _figure(factor: str, currency: str) -> pl.Expr:
    """The figure behind a factor, in the words of the tier reasons (§S10)."""
    if factor == "revenue":
        return pl.concat_str(pl.lit("revenue "), money_expr("revenue_t12m", currency))
    if factor == "margin":
        return pl.concat_str(pl.lit("margin "), money_expr("margin_t12m", currency))
    if factor == "potential":
        return (
            pl.when((pl.col("potential_class") == UNKNOWN) & pl.col("wallet_below_revenue"))
            .then(
                pl.concat_str(
                    pl.lit("revenue exceeds the "), _wallet_words(), pl.lit(" of "), money_expr("wallet", currency)
                )
            )
            .when(pl.col("potential_class") == UNKNOWN)
            .then(pl.lit("no wallet and no material pipeline"))
            .otherwise(pl.concat_str(pl.lit("potential "), money_expr("potential_value", currency)))
        )
    if factor == "growth":
        return (
            pl.when(pl.col("growth_pct").is_null())
            .then(pl.lit("no revenue in the prior window"))
            .otherwise(pl.concat_str(pl.lit("growth "), percent_expr(pl.col("growth_pct"))))
        )
    return (
        pl.when(pl.col("competitive_position").is_null())
        .then(pl.lit("competitive position not rated"))
        .otherwise(pl.format("competitive position {} of 5", pl.col("competitive_position")))
    )


def _weighted(settings: KamSettings) -> tuple[list[str], dict[str, float]]:
    """The factors with a weight, and each one's maximum points."""
    w = weights(settings)
    total = sum(w.values()) or 1.0
    names = [name for name in FACTORS if w[name] > 0]
    return names, {name: 100 * w[name] / total for name in names}


def _shortfall(names: list[str], maximum: dict[str, float]) -> pl.Expr:
    """Index in `names` of the factor furthest below its maximum (the first on a tie)."""
    return pl.concat_list([maximum[n] - pl.col(f"points_{n}") for n in names]).list.arg_max()


def held_back_by(settings: KamSettings) -> pl.Expr:
    """The factor that fell furthest short of its maximum points (§K5.6);
    null without a score or a weighted factor."""
    names, maximum = _weighted(settings)
    if not names:
        return pl.lit(None, pl.String)
    return _shortfall(names, maximum).replace_strict(dict(enumerate(names)), default=None, return_dtype=pl.String)


def held_back(frame: pl.DataFrame, settings: KamSettings, currency: str) -> pl.Series:
    """Per row of `frame`: 'held back most by potential (0.00 of 10.00 points:
    revenue exceeds the CRM wallet of EUR 29.0 k)'; null without a score.
    Factors with zero weight are never named. Each factor's phrase is
    formatted only on the rows it names (one in five of them), which matters
    at hundreds of thousands of eligible customers."""
    names, maximum = _weighted(settings)
    if not names or frame.is_empty():
        return pl.Series("held_back", [None] * frame.height, pl.String)
    rows = frame.with_row_index("_row").with_columns(_shortfall=_shortfall(names, maximum))
    phrases = [
        rows.filter(pl.col("_shortfall") == i).select(
            "_row",
            held_back=pl.format(
                "held back most by {} ({} of {} points: {})",
                pl.lit(name),
                fixed(pl.col(f"points_{name}")),
                fixed(pl.lit(maximum[name])),
                _figure(name, currency),
            ),
        )
        for i, name in enumerate(names)
    ]
    found = pl.concat(phrases)
    return rows.select("_row").join(found, on="_row", how="left", maintain_order="left").get_column("held_back")
