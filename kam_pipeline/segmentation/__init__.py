"""Customer segmentation: revenue, Pareto/ABC, potential, threat and tier per
customer as pure Polars functions (docs/methodology.md, "Segmentation")."""

from kam_pipeline.segmentation.amounts import line_amounts
from kam_pipeline.segmentation.segments import build_customer_segments
from kam_pipeline.segmentation.summary import build_segment_summary

__all__ = [
    "build_customer_segments",
    "build_segment_summary",
    "line_amounts",
]
