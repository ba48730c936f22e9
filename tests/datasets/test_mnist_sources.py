"""MNIST sources: the classic pickle, read safely (numpy arrays only) and verified."""

from __future__ import annotations

import gzip
import pickle

import numpy as np
import pytest

from hgcal_ae.datasets.mnist_sources import read_mnist_pickle
from hgcal_ae.errors import DataError


def test_classic_pickle_reader(tmp_path, tiny):
    spec, (tx, ty, sx, sy) = tiny
    as_float = lambda a: a.reshape(len(a), -1).astype(np.float32) / 256.0  # noqa: E731
    content = (
        (as_float(tx[:8]), ty[:8].astype(np.int64)),
        (as_float(tx[8:]), ty[8:]),
        (as_float(sx), sy),
    )
    path = tmp_path / "mnist.pkl.gz"
    with gzip.open(path, "wb") as fh:
        pickle.dump(content, fh, protocol=2)
    splits = read_mnist_pickle(path, spec)
    np.testing.assert_array_equal(splits.train_x, tx[:8])
    np.testing.assert_array_equal(splits.val_y, ty[8:])
    np.testing.assert_array_equal(splits.test_x, sx)


def test_pickle_that_runs_code_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "mnist.pkl.gz"
    with gzip.open(path, "wb") as fh:
        pickle.dump(Evil(), fh)
    with pytest.raises(DataError, match=r"refusing to load builtins\.print"):
        read_mnist_pickle(path)


def test_truncated_pickle(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps(list(range(1000))))[:30])
    with pytest.raises(DataError, match="cannot read MNIST pickle"):
        read_mnist_pickle(path)
