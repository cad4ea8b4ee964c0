"""Unique keys across files, recomputed from the files that changed
(kam_pipeline.ingest.key_copies), against the policy stated directly:
files by name, rows in file order, every copy after the first is quarantined."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest

from kam_pipeline.ingest import key_copies
from kam_pipeline.ingest.contract.extracts import INVOICE_LINES, SOURCE_FILE, SOURCE_ROW
from kam_pipeline.ingest.contract.rules import UniqueKey
from kam_pipeline.ingest.key_copies import ParsedFile, later_copies

RULE = next(r for r in INVOICE_LINES.all_rules() if isinstance(r, UniqueKey))


def _file(folder: Path, name: str, version: int, rng: random.Random) -> ParsedFile:
    """A parsed file of 0-30 rows drawing keys from a small pool (many repeats,
    some null parts); its parse-cache name changes with `version`."""
    rows = rng.randint(0, 30)
    frame = pl.DataFrame(
        {
            SOURCE_FILE: [name] * rows,
            SOURCE_ROW: list(range(1, rows + 1)),
            "invoice_id": [rng.choice(["A", "B", "C", "D", None]) for _ in range(rows)],
            "line_no": [rng.choice([1, 2, None]) for _ in range(rows)],
        },
        schema={SOURCE_FILE: pl.String, SOURCE_ROW: pl.Int64, "invoice_id": pl.String, "line_no": pl.Int64},
    )
    path = folder / f"{name.replace('/', '_')}-v{version}.parquet"
    frame.write_parquet(path)
    return ParsedFile(name, path)


def _expected(files: list[ParsedFile]) -> set[tuple[str, int]]:
    """Later copies of non-null keys over every file, computed directly."""
    rows = pl.concat([pl.read_parquet(f.path) for f in files]).drop_nulls(list(RULE.columns))
    ordered = rows.sort(SOURCE_FILE, SOURCE_ROW)
    later = ordered.filter(pl.struct(list(RULE.columns)).is_first_distinct().not_())
    return set(later.select(SOURCE_FILE, SOURCE_ROW).iter_rows())


def _found(files: list[ParsedFile], cache: Path) -> set[tuple[str, int]]:
    rejected = later_copies(INVOICE_LINES, sorted(files, key=lambda f: f.name), cache)
    assert set(rejected.get_column("rule")) <= {RULE.name}
    return set(rejected.select("source_file", "source_row").iter_rows())


@pytest.mark.parametrize("sorted_up_to", [key_copies.SORTED_KEYS_MAX_ROWS, 0], ids=["sorted", "grouped"])
def test_incremental_copies_equal_a_full_regrouping_over_random_histories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sorted_up_to: int
) -> None:
    """Both ways of a first grouping: hashes sorted in memory, and DuckDB's."""
    monkeypatch.setattr(key_copies, "SORTED_KEYS_MAX_ROWS", sorted_up_to)
    rng = random.Random(7)
    for history in range(12):
        folder, cache = tmp_path / f"h{history}", tmp_path / f"h{history}" / "cache"
        folder.mkdir()
        versions: dict[str, int] = {}
        files = {name: _file(folder, name, 0, rng) for name in ("2024-01", "2024-02", "2024-03")}
        for night in range(8):
            assert _found(list(files.values()), cache) == _expected(list(files.values())), (history, night)
            change = rng.choice(["grow", "replace_middle", "add", "remove", "none"])
            names = sorted(files)
            if change in ("grow", "replace_middle") and names:
                name = names[-1] if change == "grow" else rng.choice(names)
                versions[name] = versions.get(name, 0) + 1
                files[name] = _file(folder, name, versions[name], rng)
            elif change == "add":
                name = rng.choice(["2023-12", "2024-04", "2024-02b", "2025-01"])
                versions[name] = versions.get(name, 0) + 1
                files[name] = _file(folder, name, versions[name], rng)
            elif change == "remove" and len(names) > 1:
                del files[rng.choice(names)]


def test_a_copy_in_a_changed_file_names_the_first_row_in_an_unchanged_one(tmp_path: Path) -> None:
    def write(name: str, version: int, ids: list[str]) -> ParsedFile:
        path = tmp_path / f"{name}-v{version}.parquet"
        pl.DataFrame(
            {
                SOURCE_FILE: [name] * len(ids),
                SOURCE_ROW: list(range(1, len(ids) + 1)),
                "invoice_id": ids,
                "line_no": [1] * len(ids),
            }
        ).write_parquet(path)
        return ParsedFile(name, path)

    cache = tmp_path / "cache"
    old = write("2024-01", 0, ["A", "B"])
    assert _found([old, write("2024-02", 0, ["C"])], cache) == set()
    assert _found([old, write("2024-02", 1, ["C", "B", "C"])], cache) == {("2024-02", 2), ("2024-02", 3)}
    # A file earlier in name order arrives with a key seen before: the later file's row becomes the copy.
    assert _found([write("2023-12", 0, ["A"]), old, write("2024-02", 1, ["C", "B", "C"])], cache) == {
        ("2024-01", 1),
        ("2024-02", 2),
        ("2024-02", 3),
    }
