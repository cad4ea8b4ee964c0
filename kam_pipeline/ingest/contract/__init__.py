"""The extract contract: declared once, enforced by ingestion and validation."""

from kam_pipeline.ingest.contract.extracts import EXTRACTS, EXTRACTS_BY_NAME, Column, Extract

__all__ = ["EXTRACTS", "EXTRACTS_BY_NAME", "Column", "Extract"]
