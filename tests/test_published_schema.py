"""The published schema is declared in sql/, documented, and changes only on purpose."""

import re
from pathlib import Path

import polars as pl
import pytest

from kam_pipeline.table_spec import SchemaMismatchError
from kam_pipeline.warehouse.ddl import DECLARED, FILES, render
from kam_pipeline.warehouse.schema import SQL_DIR, declared_tables, table_comments

SNAPSHOT = Path(__file__).with_name("published_schema.txt")


def _declared() -> dict[str, str]:
    return {f"{table}.{c.name}": c.data_type for table, columns in declared_tables().items() for c in columns}


@pytest.mark.parametrize("file_name", sorted(FILES))
def test_the_ddl_in_sql_is_rendered_from_the_declarations(file_name: str) -> None:
    assert (SQL_DIR / file_name).read_text(encoding="utf-8") == render(file_name), (
        f"sql/{file_name} is stale: run `python -m kam_pipeline.warehouse.ddl`"
    )


def test_every_table_in_sql_is_declared_once_in_python() -> None:
    """Hand-written SQL creates no table of its own beyond the history copies of the marts."""
    assert {t for t in declared_tables() if not t.startswith("history.")} == set(DECLARED)


def test_a_frame_that_drifts_from_its_declaration_is_refused() -> None:
    segments = DECLARED["marts.segment_summary"]
    frame = segments.empty().with_columns(pl.col("customers").cast(pl.Float64))
    with pytest.raises(SchemaMismatchError, match="customers is Float64, declared Int64"):
        segments.check(dict(frame.schema))


def test_no_published_column_disappears_or_changes_type() -> None:
    """A deliberate change updates tests/published_schema.txt (column, tab, type) in the same commit."""
    declared = _declared()
    expected = dict(line.split("\t") for line in SNAPSHOT.read_text(encoding="utf-8").splitlines())
    missing = sorted(set(expected) - set(declared))
    changed = sorted(c for c in expected if c in declared and declared[c] != expected[c])
    assert not missing, f"published columns disappeared: {missing}"
    assert not changed, f"published column types changed: {[(c, expected[c], declared[c]) for c in changed]}"


def test_every_published_table_and_column_has_a_comment() -> None:
    undocumented = [name for name, comment in table_comments().items() if not comment]
    undocumented += [f"{t}.{c.name}" for t, cols in declared_tables().items() for c in cols if not c.comment]
    assert not undocumented


def test_every_mart_column_is_documented_in_the_methodology() -> None:
    """docs/methodology.md is the specification independent checks are written from: every
    published mart column is named there (in backticks), not only commented in sql/."""
    methodology = (SQL_DIR.parent / "docs" / "methodology.md").read_text(encoding="utf-8")
    named = {word for code in re.findall(r"`([^`]+)`", methodology) for word in re.findall(r"[a-z0-9_]+", code)}
    _, _, marts = FILES["30_marts.sql"]
    missing = [f"{table.name}.{c.name}" for table in marts for c in table.columns if c.name not in named]
    assert not missing, f"columns missing from docs/methodology.md: {missing}"
