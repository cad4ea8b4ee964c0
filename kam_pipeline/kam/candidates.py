"""kam_candidates: score, eligibility and decision of every customer of one snapshot.

Composes scoring (§K2), eligibility (§K3), capacity and selection (§K4) and the
decisions (§K5) of docs/methodology.md.
"""

from __future__ import annotations

import polars as pl

from kam_pipeline.kam.decisions import decide
from kam_pipeline.kam.eligibility import eligibility
from kam_pipeline.kam.kam_team import key_account_capacity
from kam_pipeline.kam.scoring import kam_score
from kam_pipeline.kam.selection import rank_for_selection
from kam_pipeline.kam.snapshot import snapshot_date
from kam_pipeline.kam.tables import KAM_CANDIDATES
from kam_pipeline.settings import KamSettings


def select_key_accounts(segments: pl.DataFrame, managers: pl.DataFrame, settings: KamSettings) -> pl.DataFrame:
    """One row per customer of `segments` (one snapshot of marts.customer_segments), sorted by customer_id.

    `managers` is staging.account_managers; its KAM capacity bounds the number
    of KEEP + ADD decisions.
    """
    snapshot_date(segments, "customer_segments")
    max_key_accounts = key_account_capacity(managers, settings)
    scored = eligibility(kam_score(segments, settings), settings)
    ranked = rank_for_selection(scored, max_key_accounts, settings)
    return decide(ranked, max_key_accounts, settings).pipe(KAM_CANDIDATES.conform).sort("customer_id")
