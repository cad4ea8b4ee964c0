"""Dagster asset definitions of the KAM pipeline (installed as assets)."""
