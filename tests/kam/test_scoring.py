"""Score arithmetic (docs/methodology.md §K2)."""

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


def test_score_of_three_customers_by_hand(make_segments, settings: KamSettings) -> None:
    segments = make_segments(
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
        # Outside the universe: not scored, and not counted in anyone's rank.
        dict(customer_id="W", revenue_t12m=0, margin_t12m=999, potential_value=999, growth_pct=9.9),
    )

    scores = {r["customer_id"]: r for r in kam_score(segments, settings).iter_rows(named=True)}

    # ranks over n = 3 -> 0, 0.5, 1; potential tie X = Y shares the lowest rank; Y's null growth ranks lowest.
    # X: 0.35·1 + 0.25·0.5 + 0.25·0 + 0.15·0.5 = 0.55;  strength (5-1)/4 = 1
    # Y: 0.35·0.5 + 0.25·1 + 0.25·0 + 0.15·0 = 0.425;  strength unknown = 0.5
    # Z: 0.35·0 + 0.25·0 + 0.25·1 + 0.15·1 = 0.40;     strength (1-1)/4 = 0
    assert scores["X"]["attractiveness"] == pytest.approx(0.55)
    assert scores["Y"]["attractiveness"] == pytest.approx(0.425)
    assert scores["Z"]["attractiveness"] == pytest.approx(0.40)
    assert [scores[c]["strength"] for c in "XYZ"] == [1.0, 0.5, 0.0]
    # score = 100 × (0.7 × attractiveness + 0.3 × strength)
    assert [scores[c]["score"] for c in "XYZ"] == [68.5, 44.75, 28.0]
    assert scores["W"]["score"] is None
    assert scores["W"]["attractiveness"] is None


def test_attractiveness_weight_moves_the_score_towards_strength(make_segments) -> None:
    segments = make_segments(dict(customer_id="X", competitive_position=5), dict(customer_id="Y"))

    scores = kam_score(segments, KamSettings(attractiveness_weight=0.0)).get_column("score").to_list()

    assert scores == [100.0, 50.0]
