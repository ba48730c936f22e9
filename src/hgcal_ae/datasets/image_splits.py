"""A data set of images split into train / validation / test, verified against its checksums.

:class:`ImageSplits` is what every MNIST source (:mod:`hgcal_ae.datasets.mnist_sources`) and
the cache (:mod:`hgcal_ae.datasets.mnist`) give.  The split is fixed and documented:
**train** = the first images of the official training set, **validation** = its last
``spec.n_validation`` (10,000 for MNIST), **test** = the official test images (the split of
the classic ``mnist.pkl.gz``).  Every source is verified against the published SHA-256 of
the decompressed IDX files before it is used.

Public API::

    ImageSplits(name, train_x, train_y, val_x, val_y, test_x, test_y, class_names, source)
    official_split(spec, train_x, train_y, test_x, test_y, *, source) -> ImageSplits
    verified(payload, file, where) -> payload             # or ChecksumError
    check_against_published(spec, splits, where)          # or ChecksumError
    first_of_each_class(labels, n_classes=10) -> indices
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hgcal_ae.datasets.catalog import DatasetSpec, IdxFile
from hgcal_ae.datasets.idx import idx_bytes, sha256
from hgcal_ae.errors import ChecksumError

U8Array = npt.NDArray[np.uint8]

__all__ = [
    "ImageSplits",
    "check_against_published",
    "first_of_each_class",
    "official_split",
    "verified",
]


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


def verified(payload: bytes, file: IdxFile, where: str) -> bytes:
    """``payload`` if its SHA-256 is the published one of ``file``.

    Raises
    ------
    ChecksumError
        Naming ``where``, the checksum found and the one expected.
    """
    got = sha256(payload)
    if got != file.raw_sha256:
        msg = (
            f"checksum mismatch for {where!r}: SHA-256 of its IDX content is {got}, expected "
            f"{file.raw_sha256}; the file is corrupt or not the published {file.name}"
        )
        raise ChecksumError(msg)
    return payload


def official_split(
    spec: DatasetSpec,
    train_x: npt.NDArray[np.generic],
    train_y: npt.NDArray[np.generic],
    test_x: npt.NDArray[np.generic],
    test_y: npt.NDArray[np.generic],
    *,
    source: str,
) -> ImageSplits:
    """The fixed split of the official arrays (module docstring), as contiguous ``uint8``."""
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


def check_against_published(spec: DatasetSpec, splits: ImageSplits, where: str) -> None:
    """Rebuild the four IDX payloads from arrays and compare with the published checksums."""
    arrays = (
        np.concatenate([splits.train_x, splits.val_x]),
        np.concatenate([splits.train_y, splits.val_y]),
        splits.test_x,
        splits.test_y,
    )
    for array, file in zip(arrays, spec.files, strict=True):
        verified(idx_bytes(array), file, f"{where} ({file.name})")


def first_of_each_class(
    labels: npt.NDArray[np.integer], n_classes: int = 10
) -> npt.NDArray[np.int64]:
    """Indices of the first image of each class present: the fixed images shown every epoch."""
    present = [c for c in range(n_classes) if (labels == c).any()]
    return np.array([int(np.argmax(labels == c)) for c in present], dtype=np.int64)
