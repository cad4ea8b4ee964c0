"""Score arithmetic: factors ranked among the eligible candidates (docs/methodology.md §K2)."""

from __future__ import annotations

import polars as pl
import pytest

from kam_pipeline.kam.scoring import kam_score
from kam_pipeline.segmentation.percent_rank import percent_rank
from kam_pipeline.settings import KamSettings


def test_percent_rank_ties_share_the_lowest_rank_and_nulls_rank_lowest() -> None:
    frame = pl.DataFrame({"value": [20.0, None, 10.0, 40.0, 20.0]})

    ranks = frame.select(percent_rank(pl.col("value"))).to_series().to_list()

    # n = 5: null rank 1, 10 rank 2, both 20s rank 3, 40 rank 5 -> (rank - 1) / 4
    assert ranks == [0.5, 0.0, 0.25, 1.0, 0.5]


def test_percent_rank_of_a_single_customer_is_zero() -> None:
    assert pl.DataFrame({"value": [7.0]}).select(percent_rank(pl.col("value"))).item() == 0.0


def candidates(make_segments) -> pl.DataFrame:
    rows = [
        dict(
            customer_id="X",
            revenue_t12m=300,
            margin_t12m=30,
            potential_value=50,
            growth_pct=0.1,
            competitive_position=5,
        ),
        dict(
            customer_id="Y",
            revenue_t12m=200,
            margin_t12m=60,
            potential_value=50,
            growth_pct=None,
            competitive_position=None,
        ),
        dict(
            customer_id="Z",
            revenue_t12m=100,
            margin_t12m=10,
            potential_value=90,
            growth_pct=0.3,
            competitive_position=1,
        ),
        # in the universe but not eligible: measured against the pool without entering it
        dict(
            customer_id="V",
            revenue_t12m=400,
            margin_t12m=20,
            potential_value=70,
            potential_class="UNKNOWN",
            growth_pct=0.2,
            competitive_position=3,
        ),
        # outside the universe: not scored
        dict(customer_id="W", revenue_t12m=0, margin_t12m=999, potential_value=999, growth_pct=9.9),
    ]
    return make_segments(*rows).with_columns(eligible=pl.col("customer_id").is_in(["X", "Y", "Z"]))


def test_score_of_the_pool_by_hand(make_segments, settings: KamSettings) -> None:
    scores = {r["customer_id"]: r for r in kam_score(candidates(make_segments), settings).iter_rows(named=True)}

    # pool X, Y, Z: ranks 0, 0.5, 1. revenue Z 0, Y .5, X 1; margin Z 0, X .5, Y 1;
    # potential X = Y tie 0, Z 1; growth (known X, Z only, n - 1 = 1) X 0, Z 1, Y unknown .5.
    # V: revenue 3 of 3 below -> 1.5 capped at 1; margin .5; potential unknown .5; growth 1 of 1 below -> 1.
    assert {c: scores[c]["factor_revenue"] for c in "XYZV"} == {"X": 1.0, "Y": 0.5, "Z": 0.0, "V": 1.0}
    assert {c: scores[c]["factor_potential"] for c in "XYZV"} == {"X": 0.0, "Y": 0.0, "Z": 1.0, "V": 0.5}
    assert {c: scores[c]["factor_growth"] for c in "XYZV"} == {"X": 0.0, "Y": 0.5, "Z": 1.0, "V": 1.0}
    # 100 x (.5 revenue + .3 margin + .1 potential + .1 growth + 0 position)
    assert {c: scores[c]["score"] for c in "XYZV"} == {"X": 65.0, "Y": 60.0, "Z": 20.0, "V": 80.0}
    assert [scores[c]["strength"] for c in "XYZV"] == [1.0, 0.5, 0.0, 0.5]
    assert scores["X"]["attractiveness"] == pytest.approx(0.65)
    assert (scores["W"]["score"], scores["W"]["attractiveness"]) == (None, None)


def test_a_position_weight_moves_the_score_towards_strength(make_segments) -> None:
    settings = KamSettings(
        weight_revenue=0.25, weight_margin=0.15, weight_potential=0.05, weight_growth=0.05, weight_position=0.5
    )
    scores = dict(kam_score(candidates(make_segments), settings).select("customer_id", "score").rows())

    # X: .25 x 1 + .15 x .5 + 0 + 0 + .5 x 1 = .825
    assert scores["X"] == 82.5
