"""Service tier, at-risk flag and the sentence explaining them (methodology §S10)."""

from __future__ import annotations

import polars as pl

from kam_pipeline.figures import money_expr, whole_percent
from kam_pipeline.segmentation.pareto import OUTSIDE
from kam_pipeline.segmentation.potential import PIPELINE, UNKNOWN
from kam_pipeline.settings import SegmentationSettings

#: Customers without positive revenue in the window: bought before, or never.
LAPSED, PROSPECT = "LAPSED", "PROSPECT"


def tier() -> pl.Expr:
    """Tier from the segment class and the potential class (UNKNOWN counts as
    LOW); outside the universe LAPSED when the customer was ever invoiced,
    PROSPECT when never (§S10)."""
    abc = pl.col("segment_class")
    potential = pl.col("potential_class").replace(UNKNOWN, "LOW")
    return (
        pl.when((abc == OUTSIDE) & pl.col("last_invoice_date").is_not_null())
        .then(pl.lit(LAPSED))
        .when(abc == OUTSIDE)
        .then(pl.lit(PROSPECT))
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
    """A HIGH threat on an A or B customer (by segment class)."""
    return (pl.col("threat_level") == "HIGH") & pl.col("segment_class").is_in(["A", "B"])


def _class_part(settings: SegmentationSettings) -> pl.Expr:
    by_margin = settings.basis == "margin"
    share_column = "margin_share" if by_margin else "revenue_share"
    measure = "margin" if by_margin else "revenue"
    share = pl.concat_str(
        (pl.col(share_column) * 100).round(1).cast(pl.String), pl.lit(f" % of {measure}, ")
    ).fill_null(pl.lit(f"no positive {measure}, "))
    a, b = settings.abc_a_cut, settings.abc_b_cut
    history = (
        pl.when(pl.col("last_invoice_date").is_null())
        .then(pl.lit("never invoiced"))
        .otherwise(pl.concat_str(pl.lit("last invoice "), pl.col("last_invoice_date").cast(pl.String)))
    )
    return (
        pl.when(pl.col("segment_class") == OUTSIDE)
        .then(
            pl.concat_str(
                pl.lit(f"N customer (no positive revenue in the last {settings.window_months} months: "),
                money_expr("revenue_t12m", settings.reporting_currency),
                pl.lit("; "),
                history,
                pl.lit(")"),
            )
        )
        .otherwise(
            pl.concat_str(
                pl.col("segment_class"),
                pl.lit(" customer ("),
                share,
                pl.when(pl.col("segment_class") == "A")
                .then(pl.lit(f"top {whole_percent(a)})"))
                .when(pl.col("segment_class") == "B")
                .then(pl.lit(f"next {whole_percent(b - a)})"))
                .otherwise(pl.lit(f"last {whole_percent(1 - b)})")),
            )
        )
    )


def _wallet_words() -> pl.Expr:
    """'CRM wallet', 'benchmark wallet', 'mixed CRM and benchmark wallet'."""
    return pl.col("wallet_source").replace_strict(
        {"CRM": "CRM wallet", "BENCHMARK": "benchmark wallet", "MIXED": "CRM and benchmark wallet"},
        default="wallet",
        return_dtype=pl.String,
    )


def _potential_part(settings: SegmentationSettings) -> pl.Expr:
    currency = settings.reporting_currency
    driver = (
        pl.when(pl.col("potential_driver") == PIPELINE)
        .then(pl.concat_str(pl.lit("weighted pipeline "), money_expr("pipeline_weighted", currency)))
        .otherwise(
            pl.concat_str(pl.lit("headroom "), money_expr("headroom", currency), pl.lit(" from "), _wallet_words())
        )
    )
    unknown = (
        pl.when(pl.col("wallet_below_revenue"))
        .then(
            pl.concat_str(
                pl.lit("potential UNKNOWN (revenue above the "),
                _wallet_words(),
                pl.lit(" of "),
                money_expr("wallet", currency),
                pl.lit("; counted as LOW)"),
            )
        )
        .otherwise(pl.lit("potential UNKNOWN (no wallet and no material pipeline; counted as LOW)"))
    )
    return (
        pl.when(pl.col("potential_class") == UNKNOWN)
        .then(unknown)
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
    threats: DECLINING (MEDIUM)" (§S10)."""
    return pl.concat_str(_class_part(settings), pl.lit("; "), _potential_part(settings), pl.lit("; "), _threat_part())
