"""docs/extracts.md is generated from the contract and must be current."""

from pathlib import Path

from kam_pipeline.ingest.contract.docs import render

DOC = Path(__file__).resolve().parent.parent / "docs" / "extracts.md"


def test_extracts_doc_matches_the_contract() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/extracts.md is stale: run `python -m kam_pipeline.ingest.contract.docs > docs/extracts.md`"
    )
