"""KAM segmentation warehouse: domain code and Dagster definitions."""
