"""The published schema is declared in sql/, documented, and changes only on purpose."""

from pathlib import Path

from kam_pipeline.ingest.contract.ddl import render
from kam_pipeline.warehouse.schema import SQL_DIR, declared_tables, table_comments

SNAPSHOT = Path(__file__).with_name("published_schema.txt")


def _declared() -> dict[str, str]:
    return {f"{table}.{c.name}": c.data_type for table, columns in declared_tables().items() for c in columns}


def test_staging_ddl_is_generated_from_the_contract() -> None:
    assert (SQL_DIR / "10_staging.sql").read_text(encoding="utf-8") == render(), (
        "sql/10_staging.sql is stale: run `python -m kam_pipeline.ingest.contract.ddl > sql/10_staging.sql`"
    )


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
