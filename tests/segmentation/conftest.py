"""Fixtures of the segmentation tests."""

import pytest

from .builder import Extracts


@pytest.fixture
def data() -> Extracts:
    """An empty set of extracts to fill with a hand-computed case."""
    return Extracts()
