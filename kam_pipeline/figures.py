"""How figures are written for people: in reason sentences, reports and charts.

Defined once, so that a reason, a chart label and a report cell print the
same amount the same way (methodology §S10 and §K10 give the reason
formats). Each format exists as a Polars expression (for reason columns
computed over whole frames) and, where reports need it, as a Python
function of one value.
"""

from __future__ import annotations

import polars as pl


def fixed(value: pl.Expr, decimals: int = 2) -> pl.Expr:
    """`value` as text with exactly `decimals` decimals (rounded half to even)."""
    return value.cast(pl.Decimal(38, decimals)).cast(pl.String)


def percent_expr(ratio: pl.Expr) -> pl.Expr:
    """A ratio as a percentage with two decimals, e.g. 0.1 -> `10.00 %` (KAM reasons)."""
    return pl.format("{} %", fixed(ratio * 100))


def money_expr(column: str, currency: str) -> pl.Expr:
    """'EUR 1.2 m', 'EUR 350.0 k', 'EUR 940' — one decimal above a thousand (tier reasons)."""
    x = pl.col(column).cast(pl.Float64)
    figure = (
        pl.when(x.abs() >= 1e6)
        .then(pl.concat_str((x / 1e6).round(1).cast(pl.String), pl.lit(" m")))
        .when(x.abs() >= 1e3)
        .then(pl.concat_str((x / 1e3).round(1).cast(pl.String), pl.lit(" k")))
        .otherwise(x.round(0).cast(pl.Int64).cast(pl.String))
    )
    return pl.concat_str(pl.lit(f"{currency} "), figure)


def money(value: float, currency: str) -> str:
    """One amount as `money_expr` writes it: 'EUR 1.2 m', 'EUR 350.0 k', 'EUR 940'."""
    magnitude = abs(value)
    if magnitude >= 1e6:
        figure = f"{value / 1e6:,.1f} m"
    elif magnitude >= 1e3:
        figure = f"{value / 1e3:.1f} k"
    else:
        figure = f"{value:.0f}"
    return f"{currency} {figure.replace(',', ' ')}"


def short_amount(value: float) -> str:
    """'1.2 m', '350 k', '940', as on chart tick labels."""
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:.3g} m"
    if magnitude >= 1e3:
        return f"{value / 1e3:.3g} k"
    return f"{value:.0f}"


def percent(fraction: float, decimals: int = 1) -> str:
    """0.8012 -> '80.1 %'."""
    return f"{fraction * 100:.{decimals}f} %"


def whole_percent(fraction: float) -> str:
    """A setting's share without trailing zeros: 0.8 -> '80 %', 0.025 -> '2.5 %'."""
    return f"{fraction * 100:g} %"


def count(n: int) -> str:
    """1234567 -> '1 234 567'."""
    return f"{n:,}".replace(",", " ")
