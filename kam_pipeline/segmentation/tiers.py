"""Service tier, at-risk flag and the sentence explaining them (methodology §S10)."""

from __future__ import annotations

import polars as pl

from kam_pipeline.figures import money_expr, whole_percent
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


def _class_part(settings: SegmentationSettings) -> pl.Expr:
    share = pl.concat_str((pl.col("revenue_share") * 100).round(1).cast(pl.String), pl.lit(" % of revenue, "))
    a, b = settings.abc_a_cut, settings.abc_b_cut
    return (
        pl.when(pl.col("abc_class") == OUTSIDE)
        .then(
            pl.concat_str(
                pl.lit(f"N customer (no positive revenue in the last {settings.window_months} months: "),
                money_expr("revenue_t12m", settings.reporting_currency),
                pl.lit(")"),
            )
        )
        .otherwise(
            pl.concat_str(
                pl.col("abc_class"),
                pl.lit(" customer ("),
                share,
                pl.when(pl.col("abc_class") == "A")
                .then(pl.lit(f"top {whole_percent(a)})"))
                .when(pl.col("abc_class") == "B")
                .then(pl.lit(f"next {whole_percent(b - a)})"))
                .otherwise(pl.lit(f"last {whole_percent(1 - b)})")),
            )
        )
    )


def _potential_part(settings: SegmentationSettings) -> pl.Expr:
    currency = settings.reporting_currency
    driver = (
        pl.when(pl.col("pipeline_weighted") > pl.col("headroom").fill_null(0))
        .then(pl.concat_str(pl.lit("weighted pipeline "), money_expr("pipeline_weighted", currency)))
        .otherwise(
            pl.concat_str(
                pl.lit("headroom "),
                money_expr("headroom", currency),
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
