"""Amounts in the reporting currency and the ratios computed from them
(methodology §S3).

Sums are exact decimals, so they do not depend on the order in which a
streaming engine adds lines; customer amounts are rounded once to cents and
every share, ratio and threshold comparison starts from those rounded amounts.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import polars as pl

from kam_pipeline.ingest.contract.extracts import RATE, fx_month_key, month_key

#: Published amounts of one customer: reporting currency, cents.
AMOUNT = pl.Decimal(18, 2)
#: Published totals over many customers (the KAM marts, §K10): the same cents,
#: with the precision of a Polars decimal sum.
TOTAL_AMOUNT = pl.Decimal(38, 2)


#: An amount (4 decimals) times a rate (8 decimals), kept exactly: Polars keeps the wider of the two
#: scales of a product, so the amount is widened first (§S3).
CONVERTED = pl.Decimal(38, 12)


def _rate(reporting_currency: str) -> pl.Expr:
    """The joined rate, 1 for the reporting currency."""
    return pl.when(pl.col("currency") == reporting_currency).then(pl.lit(1, RATE)).otherwise(pl.col("_rate"))


def _converted(amount: str, reporting_currency: str) -> pl.Expr:
    """amount × rate, exact: a sum of lines and the same lines summed per day
    first convert to the same figure (daily_totals)."""
    return pl.col(amount).cast(CONVERTED) * _rate(reporting_currency)


def line_amounts(lines: pl.LazyFrame, fx_rates: pl.DataFrame, reporting_currency: str) -> pl.LazyFrame:
    """Add `net_amount_rc` and `cost_amount_rc`: the line's amounts times the rate
    of its currency in its invoice month (§S3).

    Lazy and streaming-friendly (one join with the small FX table); row order
    is not preserved. A foreign-currency line without a rate gets null amounts.
    """
    rates = (
        fx_rates.lazy()
        .filter(pl.col("currency") != reporting_currency)
        .select("currency", _fx_month=fx_month_key(), _rate=pl.col("rate_to_reporting"))
    )
    return (
        lines.with_columns(_fx_month=month_key("invoice_date"))
        .join(rates, on=["currency", "_fx_month"], how="left")
        .with_columns(
            net_amount_rc=_converted("net_amount", reporting_currency),
            cost_amount_rc=_converted("cost_amount", reporting_currency),
        )
        .drop("_fx_month", "_rate")
    )


def opportunity_amounts(
    opportunities: pl.DataFrame, fx_rates: pl.DataFrame, reporting_currency: str, as_of: date
) -> pl.DataFrame:
    """Add `amount_rc`: the amount at the rate of the as-of month, i.e. the
    latest month at or before D that has a rate for the currency (§S3).

    Null when the currency has no rate at or before D.
    """
    as_of_month = as_of.year * 100 + as_of.month
    rates = (
        fx_rates.filter(pl.col("currency") != reporting_currency)
        .with_columns(_fx_month=fx_month_key())
        .filter(pl.col("_fx_month") <= as_of_month)
        .group_by("currency")
        .agg(_rate=pl.col("rate_to_reporting").sort_by("_fx_month").last())
    )
    return (
        opportunities.join(rates, on="currency", how="left")
        .with_columns(amount_rc=_converted("amount", reporting_currency))
        .drop("_rate")
    )


def to_amount(expr: pl.Expr, dtype: pl.Decimal = AMOUNT) -> pl.Expr:
    """Round an amount to cents (half to even, Polars' decimal cast) as `dtype`:
    AMOUNT for one customer, TOTAL_AMOUNT for a total over customers (§S3)."""
    return expr.cast(dtype)


def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """Quotient of two amounts as Float64, for publishing (shares, growth).

    Rules never compare these floats with thresholds: they use
    `ratio_at_least` / `ratio_at_most`, which are exact.
    """
    return numerator.cast(pl.Float64) / denominator.cast(pl.Float64)


def _threshold(value: float) -> Fraction:
    """A threshold as the decimal written in the settings: 0.8 is 4/5, not the
    nearest binary float."""
    return Fraction(repr(value))


def ratio_at_least(numerator: pl.Expr, denominator: pl.Expr, threshold: float) -> pl.Expr:
    """numerator / denominator ≥ threshold, for a positive denominator, decided
    exactly on decimals or integers (n × 5 ≥ d × 4 for 0.8), so a ratio that
    equals a threshold is on the threshold (§S3)."""
    t = _threshold(threshold)
    return numerator * t.denominator >= denominator * t.numerator


def ratio_at_most(numerator: pl.Expr, denominator: pl.Expr, threshold: float) -> pl.Expr:
    """numerator / denominator ≤ threshold, for a positive denominator, exactly."""
    t = _threshold(threshold)
    return numerator * t.denominator <= denominator * t.numerator
