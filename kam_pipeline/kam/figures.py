"""How figures appear in the KAM outputs: the money type and the numbers in reason sentences.

Defined once so that every table rounds money the same way and every reason
prints a figure the way the tables show it (docs/kam_method.md §10).
"""

from __future__ import annotations

import polars as pl

#: Money columns of the KAM marts: reporting currency, cents, rounded half to even.
MONEY = pl.Decimal(38, 2)


def fixed(value: pl.Expr, decimals: int = 2) -> pl.Expr:
    """`value` as text with exactly `decimals` decimals (rounded half to even)."""
    return value.cast(pl.Decimal(38, decimals)).cast(pl.String)


def percent(ratio: pl.Expr) -> pl.Expr:
    """A ratio as a percentage with two decimals, e.g. 0.1 -> `10.00 %`."""
    return pl.format("{} %", fixed(ratio * 100))
