"""Which customers may become key accounts, and why the others may not.

A customer is eligible when it passes every rule; an ineligible customer
carries every rule it fails, with its figures (methodology §K3).
"""

from __future__ import annotations

import polars as pl

from kam_pipeline.figures import fixed, percent_expr
from kam_pipeline.segmentation.pareto import in_universe
from kam_pipeline.settings import KamSettings

A_CLASS = "A"
HIGH_POTENTIAL = "HIGH"
REASON_SEPARATOR = "; "


def _rules(settings: KamSettings) -> list[tuple[pl.Expr, pl.Expr]]:
    """(passes, reason when it fails) for each eligibility rule, in the order reasons are listed."""
    margin_pct = pl.col("margin_pct")
    coverage = pl.col("margin_coverage")
    # Margin is only judged when enough revenue has a known cost (§K3 rule 2; margin_coverage §S3).
    margin_judged = (coverage >= settings.min_margin_coverage).fill_null(False)
    rules = [
        (
            in_universe(),
            pl.format(
                "no revenue in the trailing window (revenue_t12m {})", fixed(pl.col("revenue_t12m")).fill_null("n/a")
            ),
        ),
        (
            ~margin_judged | (margin_pct >= settings.min_margin_pct).fill_null(False),
            pl.format(
                "margin {} below the {} minimum (cost known for {} of revenue)",
                percent_expr(margin_pct).fill_null("n/a"),
                percent_expr(pl.lit(settings.min_margin_pct)),
                percent_expr(coverage),
            ),
        ),
        (
            ((pl.col("segment_class") == A_CLASS) | (pl.col("potential_class") == HIGH_POTENTIAL)).fill_null(False),
            pl.format(
                "neither A-class (class {}, {} of revenue) nor HIGH potential (potential {}, value {})",
                pl.col("segment_class").fill_null("n/a"),
                percent_expr(pl.col("revenue_share")).fill_null("0.00 %"),
                pl.col("potential_class").fill_null("n/a"),
                fixed(pl.col("potential_value")).fill_null("n/a"),
            ),
        ),
    ]
    if settings.strategic_industries:
        strategic = list(settings.strategic_industries)
        rules.append(
            (
                pl.col("industry").is_in(strategic).fill_null(False),
                pl.format(
                    "industry {} is not strategic ({})",
                    pl.col("industry").fill_null("n/a"),
                    pl.lit(", ".join(strategic)),
                ),
            )
        )
    return rules


def eligibility(frame: pl.DataFrame, settings: KamSettings) -> pl.DataFrame:
    """`frame` plus `eligible` (bool) and `ineligible_reason` (null when eligible) (§K3)."""
    rules = _rules(settings)
    eligible = pl.all_horizontal(passes for passes, _ in rules)
    reasons = pl.concat_str(
        [pl.when(~passes).then(reason) for passes, reason in rules], separator=REASON_SEPARATOR, ignore_nulls=True
    )
    return frame.with_columns(eligible=eligible, ineligible_reason=pl.when(~eligible).then(reasons))
