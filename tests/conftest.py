"""Shared fixtures: a private data cache and no network for the whole session."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

# Set before the package is imported anywhere: the cache location and offline mode are read at
# call time, but luigi parameters take OUTPUT_DIR as their default at import time.
_SESSION_CACHE = Path(tempfile.mkdtemp(prefix="hgcal-ae-test-cache-"))
os.environ["HGCAL_AE_CACHE"] = str(_SESSION_CACHE)
os.environ["HGCAL_AE_OFFLINE"] = "1"
os.environ.pop("MNIST_DIR", None)
os.environ["OUTPUT_DIR"] = str(_SESSION_CACHE / "default-output")


@pytest.fixture(scope="session")
def mnist_cache() -> Path:
    """The verified MNIST cache, built once per session from the installed registry copy."""
    from hgcal_ae.datasets.mnist import prepare_cache

    return prepare_cache("mnist")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261127)
