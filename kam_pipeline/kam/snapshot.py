"""One snapshot, one as-of date: the guard every KAM function relies on.

Scores are percentile ranks over the customers of one as-of date; a frame that
mixes snapshots would rank customers against another day's universe
(methodology §K1).
"""

from __future__ import annotations

from datetime import date

import polars as pl


def snapshot_date(frame: pl.DataFrame, name: str) -> date | None:
    """The single `as_of_date` of `frame` (None when it has no rows).

    Raises ValueError naming the frame when it holds several dates.
    """
    dates = frame.get_column("as_of_date").unique().sort()
    if len(dates) > 1:
        shown = ", ".join(str(d) for d in dates.head(5).to_list())
        raise ValueError(f"{name} holds {len(dates)} as-of dates ({shown}); the KAM method expects one snapshot")
    return dates.item() if len(dates) else None
