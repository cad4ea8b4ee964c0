"""kam_candidates: eligibility, score and decision of every customer of one snapshot.

Composes eligibility (§K3), the score over the eligible pool (§K2), capacity
and selection (§K4), the review rhythm and the decisions (§K5) of
docs/methodology.md.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from kam_pipeline.kam.decisions import decide
from kam_pipeline.kam.eligibility import eligibility
from kam_pipeline.kam.kam_team import key_account_capacity
from kam_pipeline.kam.review import is_review, review_date
from kam_pipeline.kam.scoring import kam_score
from kam_pipeline.kam.selection import rank_for_selection
from kam_pipeline.kam.snapshot import snapshot_date
from kam_pipeline.kam.tables import KAM_CANDIDATES
from kam_pipeline.settings import KamSettings


def select_key_accounts(segments: pl.DataFrame, managers: pl.DataFrame, settings: KamSettings) -> pl.DataFrame:
    """One row per customer of `segments` (one snapshot of marts.customer_segments), sorted by customer_id.

    `managers` is staging.account_managers; the KAM team's hours net of its
    own portfolio bound the number of KEEP + ADD decisions.
    """
    as_of = snapshot_date(segments, "customer_segments") or date.min
    max_key_accounts = key_account_capacity(managers, segments, settings)
    scored = kam_score(eligibility(segments, settings), settings)
    ranked = rank_for_selection(scored, max_key_accounts, settings, as_of)
    review_day = review_date(as_of, settings)
    return (
        decide(ranked, max_key_accounts, settings, review_day, is_review(as_of, settings))
        .pipe(KAM_CANDIDATES.conform)
        .sort("customer_id")
    )
