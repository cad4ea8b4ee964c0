"""How figures appear in the KAM reason sentences.

Defined once so that every reason prints a figure the way the tables show it
(methodology §K10); the money type itself is segmentation.amounts.TOTAL_AMOUNT.
"""

from __future__ import annotations

import polars as pl


def fixed(value: pl.Expr, decimals: int = 2) -> pl.Expr:
    """`value` as text with exactly `decimals` decimals (rounded half to even)."""
    return value.cast(pl.Decimal(38, decimals)).cast(pl.String)


def percent(ratio: pl.Expr) -> pl.Expr:
    """A ratio as a percentage with two decimals, e.g. 0.1 -> `10.00 %`."""
    return pl.format("{} %", fixed(ratio * 100))
