"""Reader and writer for the IDX format of the MNIST family.

IDX (LeCun et al., http://yann.lecun.com/exdb/mnist/) is a big-endian header
``0x00 0x00 <type> <ndim>`` followed by ``ndim`` 32-bit sizes and the raw array.
Files may be gzipped; the reader tells by the gzip magic bytes, not the file name.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hgcal_ae.atomic import atomic_path
from hgcal_ae.errors import DataError

__all__ = ["idx_bytes", "read_idx", "read_idx_bytes", "write_idx"]

# IDX type byte -> numpy dtype (big-endian where multi-byte).
_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder(">") if dt.itemsize > 1 else dt: code for code, dt in _DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


def read_idx_bytes(path: str | os.PathLike[str]) -> bytes:
    """Return the decompressed IDX payload of ``path`` (gzipped or plain).

    Raises
    ------
    DataError
        If the file is missing, unreadable, or a corrupt/truncated gzip stream.
    """
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        msg = f"cannot read IDX file {str(file)!r}: {exc.strerror or exc}"
        raise DataError(msg) from exc
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        msg = f"IDX file {str(file)!r} is a corrupt or truncated gzip stream ({exc}); delete it and fetch it again"
        raise DataError(msg) from exc


def idx_bytes(array: npt.ArrayLike) -> bytes:
    """Serialise ``array`` to IDX bytes (uncompressed)."""
    arr = np.asarray(array)
    dtype = arr.dtype.newbyteorder(">") if arr.dtype.itemsize > 1 else arr.dtype
    if dtype not in _CODES:
        msg = f"IDX cannot hold dtype {arr.dtype}; expected one of uint8, int8, int16, int32, float32, float64"
        raise DataError(msg)
    if arr.ndim == 0 or arr.ndim > 255:
        msg = f"IDX needs an array of 1..255 dimensions, got {arr.ndim}"
        raise DataError(msg)
    header = bytes([0, 0, _CODES[dtype], arr.ndim]) + np.asarray(arr.shape, ">u4").tobytes()
    return header + np.ascontiguousarray(arr, dtype=dtype).tobytes()


def parse_idx(payload: bytes, source: str = "<bytes>") -> npt.NDArray[np.generic]:
    """Parse decompressed IDX bytes into an array (native byte order).

    Raises
    ------
    DataError
        On a bad magic number, an unknown type code, or a length that does not match the
        header (a truncated or padded file).
    """
    if len(payload) < 4 or payload[:2] != b"\x00\x00":
        msg = f"{source!r} is not an IDX file: expected magic 0x0000TTNN, got {payload[:4].hex() or 'an empty file'}"
        raise DataError(msg)
    code, ndim = payload[2], payload[3]
    if code not in _DTYPES:
        msg = (
            f"{source!r} has unknown IDX type code 0x{code:02x}; expected one of {sorted(_DTYPES)}"
        )
        raise DataError(msg)
    offset = 4 + 4 * ndim
    if len(payload) < offset:
        msg = f"{source!r} is truncated inside its IDX header ({len(payload)} bytes)"
        raise DataError(msg)
    shape = tuple(int(n) for n in np.frombuffer(payload, ">u4", count=ndim, offset=4))
    dtype = _DTYPES[code]
    expected = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(payload) != expected:
        msg = (
            f"{source!r} has {len(payload)} bytes but its IDX header {shape} needs {expected}; "
            "the file is truncated or corrupt"
        )
        raise DataError(msg)
    data = np.frombuffer(payload, dtype, offset=offset).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | os.PathLike[str]) -> npt.NDArray[np.generic]:
    """Read an IDX file (gzipped or plain) into a numpy array.

    Returns
    -------
    numpy.ndarray
        The array with the shape of the IDX header, e.g. ``(60000, 28, 28)`` uint8 for the
        MNIST training images.
    """
    return parse_idx(read_idx_bytes(path), str(path))


def write_idx(
    path: str | os.PathLike[str], array: npt.ArrayLike, *, compress: bool | None = None
) -> Path:
    """Write ``array`` as an IDX file, gzipped if ``compress`` (default: name ends in .gz)."""
    file = Path(path)
    payload = idx_bytes(array)
    if compress is None:
        compress = file.suffix == ".gz"
    with atomic_path(file) as tmp:
        tmp.write_bytes(gzip.compress(payload, mtime=0) if compress else payload)
    return file


def sha256(payload: bytes) -> str:
    """Hex SHA-256 of ``payload``."""
    return hashlib.sha256(payload).hexdigest()
