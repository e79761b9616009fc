"""Shared test fixtures: paths to the real SVHN data in ../shared."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SVHN = ROOT.parent / "shared" / "data" / "svhn"


@pytest.fixture(scope="session")
def svhn() -> Path:
    """The folder of real SVHN data that ships beside the repo (read-only)."""
    if not SVHN.is_dir():
        pytest.fail(f"real SVHN data not found at {SVHN}; the tests need ../shared beside the repo")
    return SVHN
