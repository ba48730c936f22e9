from __future__ import annotations

import gzip

import numpy as np
import pytest

from hgcal_ae.datasets.idx import idx_bytes, read_idx, write_idx
from hgcal_ae.errors import DataError


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_roundtrip_uint8_images(tmp_path, rng, name):
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    path = write_idx(tmp_path / name, images)
    back = read_idx(path)
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, images)
    assert path.read_bytes()[:2] == (b"\x1f\x8b" if name.endswith(".gz") else b"\x00\x00")


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.float32, np.float64])
def test_roundtrip_other_types(tmp_path, rng, dtype):
    data = (rng.normal(size=(3, 4, 5)) * 100).astype(dtype)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "x.idx", data)), data)


def test_header_is_big_endian_standard_layout():
    payload = idx_bytes(np.zeros((2, 3), np.uint8))
    assert payload[:4] == b"\x00\x00\x08\x02"
    assert payload[4:12] == (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
    assert len(payload) == 12 + 6


def test_gzip_detected_by_content_not_name(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    path = tmp_path / "labels-without-gz-suffix"
    path.write_bytes(gzip.compress(idx_bytes(labels)))
    np.testing.assert_array_equal(read_idx(path), labels)


def test_truncated_file_names_file_and_sizes(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((5, 28, 28), np.uint8))[:-100])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.*truncated or corrupt"):
        read_idx(path)


def test_truncated_gzip_stream(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.ones((50, 28, 28), np.uint8)))[:40])
    with pytest.raises(DataError, match=r"corrupt or truncated gzip"):
        read_idx(path)


def test_bad_magic_and_type(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x08\x01" + b"\x00" * 8)
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(bad)
    bad.write_bytes(b"\x00\x00\x07\x01" + (1).to_bytes(4, "big") + b"\x00")
    with pytest.raises(DataError, match="unknown IDX type code 0x07"):
        read_idx(bad)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="cannot read IDX file"):
        read_idx(tmp_path / "nope")
