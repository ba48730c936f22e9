"""The streaming HDF5 writer: atomic, and refusing bad metadata before writing anything.

The disk-full behaviour is tested on real tmpfs mounts in ``tests/test_disk_full.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hgcal_ae.datasets.hdf5 import DatasetSpec, FileSchema
from hgcal_ae.datasets.hdf5_writer import append, create_datasets, hdf5_output
from hgcal_ae.errors import ConfigError

ROWS = FileSchema(
    name="hgcal-ae/test-rows",
    version=1,
    what="test file",
    datasets=(DatasetSpec("modules/event", np.int64, "modules"),),
)


def test_error_while_writing_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"), hdf5_output(tmp_path / "x.h5", ROWS, {}) as h5:
        append(create_datasets(h5, ROWS)["modules/event"], np.arange(10))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_metadata_that_is_not_json_is_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="metadata cannot be written as JSON"):
        hdf5_output(tmp_path / "x.h5", ROWS, {"bad": object()}).__enter__()
    with pytest.raises(ConfigError, match="metadata must be a dict, got list"):
        hdf5_output(tmp_path / "x.h5", ROWS, [1, 2]).__enter__()  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
