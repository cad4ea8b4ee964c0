"""resolve_groups against a plain walk up each chain, on random hostile hierarchies:
cycles, self-parents, missing parents, duplicate and null ids, deep chains."""

from __future__ import annotations

import random

import polars as pl
import pytest

from kam_pipeline.ingest.hierarchy import ANCESTOR_BROKEN, CYCLE, PARENT_MISSING, resolve_groups


def walked(rows: list[tuple[str | None, str | None]]) -> dict[str | None, tuple[str | None, int | None, str | None]]:
    """account -> (top account, depth, problem), one parent at a time (the first row of an id counts)."""
    parent: dict[str | None, str | None] = {}
    for account, up in rows:
        parent.setdefault(account, up)
    result = {}
    for account, up in parent.items():
        if account is not None and up is not None and up not in parent:
            result[account] = (None, None, PARENT_MISSING)
            continue
        seen, node, depth = [account], account, 0
        while parent.get(node) is not None and parent[node] in parent and parent[node] not in seen:
            node, depth = parent[node], depth + 1
            seen.append(node)
        up = parent.get(node)
        on_cycle = account is not None and up in seen and account in seen[seen.index(up) :]
        if up is None and node is not None:
            result[account] = (node, depth, None)
        else:
            result[account] = (None, None, CYCLE if on_cycle else ANCESTOR_BROKEN)
    return result


def hostile(rng: random.Random) -> list[tuple[str | None, str | None]]:
    names: list[str | None] = [f"A{i}" for i in range(rng.randint(0, 40))]
    if rng.random() < 0.2:
        names.append(None)
    rows = []
    for name in names:
        for _ in range(2 if rng.random() < 0.1 else 1):
            roll = rng.random()
            if roll < 0.3:
                up = None
            elif roll < 0.4:
                up = f"X{rng.randint(0, 3)}"  # a parent that does not exist
            elif roll < 0.45:
                up = name  # its own parent
            else:
                up = rng.choice(names)
            rows.append((name, up))
    return rows


@pytest.mark.parametrize("seed", range(5))
def test_every_account_gets_the_top_depth_and_problem_of_walking_its_chain(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(100):
        rows = hostile(rng)
        frame = pl.DataFrame(rows, schema={"account_id": pl.String, "parent_account_id": pl.String}, orient="row")
        resolved = {
            r["account_id"]: (r["top_account_id"], r["depth"], r["_hierarchy_problem"])
            for r in resolve_groups(frame).iter_rows(named=True)
        }
        assert resolved == walked(rows), rows


def test_a_chain_a_hundred_thousand_accounts_deep_resolves_to_its_top() -> None:
    n = 100_000
    frame = pl.DataFrame(
        {"account_id": [f"A{i}" for i in range(n)], "parent_account_id": [None, *(f"A{i}" for i in range(n - 1))]}
    )
    resolved = resolve_groups(frame)
    assert resolved.get_column("top_account_id").unique().to_list() == ["A0"]
    assert resolved.get_column("depth").to_list() == list(range(n))
