"""Account group hierarchy: the top-most ancestor of every CRM account.

Used twice from one implementation: validation rejects accounts whose parent
chain is broken, and segmentation rolls accounts up to their group.
"""

from __future__ import annotations

import polars as pl

PARENT_MISSING = "parent_missing"
CYCLE = "cycle"
ANCESTOR_BROKEN = "ancestor_broken"


def resolve_groups(accounts: pl.DataFrame) -> pl.DataFrame:
    """Map each account to its top account by pointer jumping.

    Returns `account_id`, `top_account_id` (null when the chain is broken),
    `depth` (0 for a top account) and `_hierarchy_problem`: null, or one of
    `parent_missing` (its own parent does not exist), `cycle` (it lies on a
    cycle) or `ancestor_broken` (an ancestor has one of those problems).
    Runs in O(log depth) joins, so deep hierarchies stay cheap.
    """
    ids = accounts.select("account_id", "parent_account_id").unique("account_id", keep="first")
    known = ids.get_column("account_id")
    own_missing = ids.filter(
        pl.col("parent_account_id").is_not_null() & ~pl.col("parent_account_id").is_in(known.implode())
    ).get_column("account_id")

    # `anc` is the ancestor 2^k steps up (null past the top); `top` is the
    # top account once reached; `steps` counts the distance covered.
    state = ids.select(
        "account_id",
        anc=pl.col("parent_account_id"),
        top=pl.when(pl.col("parent_account_id").is_null()).then(pl.col("account_id")),
        depth=pl.when(pl.col("parent_account_id").is_null()).then(pl.lit(0)).otherwise(pl.lit(1)),
    )
    for _ in range(max(1, len(ids)).bit_length() + 1):
        nxt = state.join(
            state.select(
                pl.col("account_id").alias("anc"),
                pl.col("anc").alias("anc2"),
                pl.col("top").alias("top2"),
                pl.col("depth").alias("depth2"),
            ),
            on="anc",
            how="left",
        )
        state = nxt.select(
            "account_id",
            anc=pl.col("anc2"),
            top=pl.coalesce("top", "top2"),
            depth=pl.when(pl.col("top").is_not_null())
            .then(pl.col("depth"))
            .otherwise(pl.col("depth") + pl.col("depth2").fill_null(0)),
        )
        if state.get_column("anc").null_count() == len(state):
            break

    cyclic = _on_cycle(ids)
    return state.select(
        "account_id",
        top_account_id=pl.when(pl.col("top").is_not_null()).then(pl.col("top")),
        depth=pl.when(pl.col("top").is_not_null()).then(pl.col("depth")),
        _hierarchy_problem=pl.when(pl.col("account_id").is_in(own_missing.implode()))
        .then(pl.lit(PARENT_MISSING))
        .when(pl.col("account_id").is_in(cyclic.implode()))
        .then(pl.lit(CYCLE))
        .when(pl.col("top").is_null())
        .then(pl.lit(ANCESTOR_BROKEN)),
    )


def _on_cycle(ids: pl.DataFrame) -> pl.Series:
    """Accounts that are their own ancestor: repeatedly drop accounts that no
    remaining account names as parent; only cycle members survive."""
    edges = ids.filter(pl.col("parent_account_id").is_not_null())
    remaining = edges
    while True:
        targets = remaining.get_column("parent_account_id").implode()
        kept = remaining.filter(pl.col("account_id").is_in(targets))
        if len(kept) == len(remaining):
            break
        remaining = kept
    return remaining.get_column("account_id")
