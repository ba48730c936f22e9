"""Image splits: the fixed images shown every epoch."""

from __future__ import annotations

import numpy as np

from hgcal_ae.datasets.image_splits import first_of_each_class


def test_first_of_each_class():
    labels = np.array([3, 1, 1, 0, 3, 2], np.uint8)
    assert first_of_each_class(labels, 4).tolist() == [3, 1, 5, 0]
    assert first_of_each_class(labels, 10).tolist() == [3, 1, 5, 0]  # absent classes are skipped
