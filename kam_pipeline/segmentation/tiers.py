"""Service tier, at-risk flag and the sentence explaining them (methodology §S10)."""

from __future__ import annotations

import polars as pl

from kam_pipeline.segmentation.pareto import OUTSIDE
from kam_pipeline.segmentation.potential import UNKNOWN
from kam_pipeline.settings import SegmentationSettings

#: Tiers from most to least attention (also the order of the summary).
TIERS = ("STRATEGIC", "CORE", "DEVELOP", "MAINTAIN", "SERVE_EFFICIENTLY", "DORMANT")


def tier() -> pl.Expr:
    """Tier from the ABC class and the potential class (UNKNOWN counts as LOW)."""
    abc = pl.col("abc_class")
    potential = pl.col("potential_class").replace(UNKNOWN, "LOW")
    return (
        pl.when(abc == OUTSIDE)
        .then(pl.lit("DORMANT"))
        .when((abc == "A") & potential.is_in(["HIGH", "MEDIUM"]))
        .then(pl.lit("STRATEGIC"))
        .when(abc == "A")
        .then(pl.lit("CORE"))
        .when(potential == "HIGH")
        .then(pl.lit("DEVELOP"))
        .when(abc == "B")
        .then(pl.lit("MAINTAIN"))
        .otherwise(pl.lit("SERVE_EFFICIENTLY"))
    )


def at_risk() -> pl.Expr:
    """A HIGH threat on an A or B customer."""
    return (pl.col("threat_level") == "HIGH") & pl.col("abc_class").is_in(["A", "B"])


def _money(column: str, currency: str) -> pl.Expr:
    """'EUR 1.2 m', 'EUR 350.0 k', 'EUR 940' — one decimal above a thousand."""
    x = pl.col(column).cast(pl.Float64)
    figure = (
        pl.when(x.abs() >= 1e6)
        .then(pl.concat_str((x / 1e6).round(1).cast(pl.String), pl.lit(" m")))
        .when(x.abs() >= 1e3)
        .then(pl.concat_str((x / 1e3).round(1).cast(pl.String), pl.lit(" k")))
        .otherwise(x.round(0).cast(pl.Int64).cast(pl.String))
    )
    return pl.concat_str(pl.lit(f"{currency} "), figure)


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g} %"


def _class_part(settings: SegmentationSettings) -> pl.Expr:
    share = pl.concat_str((pl.col("revenue_share") * 100).round(1).cast(pl.String), pl.lit(" % of revenue, "))
    a, b = settings.abc_a_cut, settings.abc_b_cut
    return (
        pl.when(pl.col("abc_class") == OUTSIDE)
        .then(
            pl.concat_str(
                pl.lit(f"N customer (no positive revenue in the last {settings.window_months} months: "),
                _money("revenue_t12m", settings.reporting_currency),
                pl.lit(")"),
            )
        )
        .otherwise(
            pl.concat_str(
                pl.col("abc_class"),
                pl.lit(" customer ("),
                share,
                pl.when(pl.col("abc_class") == "A")
                .then(pl.lit(f"top {_percent(a)})"))
                .when(pl.col("abc_class") == "B")
                .then(pl.lit(f"next {_percent(b - a)})"))
                .otherwise(pl.lit(f"last {_percent(1 - b)})")),
            )
        )
    )


def _potential_part(settings: SegmentationSettings) -> pl.Expr:
    currency = settings.reporting_currency
    driver = (
        pl.when(pl.col("pipeline_weighted") > pl.col("headroom").fill_null(0))
        .then(pl.concat_str(pl.lit("weighted pipeline "), _money("pipeline_weighted", currency)))
        .otherwise(
            pl.concat_str(
                pl.lit("headroom "),
                _money("headroom", currency),
                pl.lit(" from "),
                pl.col("wallet_source").replace("BENCHMARK", "benchmark"),
                pl.lit(" wallet"),
            )
        )
    )
    return (
        pl.when(pl.col("potential_class") == UNKNOWN)
        .then(pl.lit("potential UNKNOWN (no wallet and no open pipeline; counted as LOW)"))
        .otherwise(pl.concat_str(pl.lit("potential "), pl.col("potential_class"), pl.lit(" ("), driver, pl.lit(")")))
    )


def _threat_part() -> pl.Expr:
    return (
        pl.when(pl.col("threat_level") == "NONE")
        .then(pl.lit("no threats"))
        .otherwise(
            pl.concat_str(
                pl.lit("threats: "),
                pl.col("threat_reasons").str.replace_all(",", ", ", literal=True),
                pl.lit(" ("),
                pl.col("threat_level"),
                pl.when(pl.col("at_risk")).then(pl.lit(", at risk")).otherwise(pl.lit("")),
                pl.lit(")"),
            )
        )
    )


def tier_reason(settings: SegmentationSettings) -> pl.Expr:
    """One sentence with the figures behind the tier, e.g. "A customer (2.4 % of
    revenue, top 80 %); potential HIGH (headroom EUR 1.2 m from CRM wallet);
    threats: DECLINING (MEDIUM)"."""
    return pl.concat_str(_class_part(settings), pl.lit("; "), _potential_part(settings), pl.lit("; "), _threat_part())
