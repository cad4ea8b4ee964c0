"""Dagster asset definitions of the KAM pipeline (installed as kam_pipeline.assets)."""
