"""The encoder's weights in the on-chip integer format, as JSON and CSV.

``weights.json``: one entry per tensor (``conv.weight``, ``conv.bias``, ``dense.weight``,
``dense.bias``) with its torch shape, its scale (a power of two), its bits and its integers
in C order (``value = integer · scale``); ``weights.csv``: one row per value
(``tensor, index, integer, scale, value``).  The published 16-latent encoder has
72 + 8 + 2,048 + 16 = 2,144 six-bit values (econt.md §3, the ASIC's I²C registers).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hgcal_ae.atomic import write_csv, write_json
from hgcal_ae.errors import DataError
from hgcal_ae.export.encoder import ModelLike, load_model, on_chip_weights

__all__ = ["export_weights", "read_weights", "weights_codes"]

LAYOUTS = {
    "conv.weight": "(filters, input channels, kernel row, kernel column)",
    "conv.bias": "(filters,)",
    "dense.weight": "(latent, filters x 4 x 4 flattened channel-first)",
    "dense.bias": "(latent,)",
}


def export_weights(model: ModelLike, folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Write ``weights.json`` and ``weights.csv`` into ``folder``; return a summary (counts,
    bits, exactness)."""
    ae = load_model(model)
    tensors = on_chip_weights(ae)
    out = Path(folder)
    summary = {
        "weight_bits": ae.config.weight_bits,
        "values": int(sum(t.integers.size for t in tensors)),
        "bits_total": int(sum(t.integers.size * t.bits for t in tensors)),
        "exact": ae.config.quantised_weights,
        "max_abs_error": max(t.max_abs_error for t in tensors),
        "per_tensor": {t.name: int(t.integers.size) for t in tensors},
    }
    write_json(out / "weights.json", {
        "format": "value = integer * scale, signed integers of `bits` bits (sign included)",
        **summary,
        "tensors": [{"name": t.name, "shape": list(t.shape), "layout": LAYOUTS[t.name],
                     "bits": t.bits, "scale": t.scale, "max_abs_error": t.max_abs_error,
                     "integers": t.integers.tolist()} for t in tensors],
    })  # fmt: skip
    rows = [
        {
            "tensor": t.name,
            "index": i,
            "integer": int(k),
            "scale": t.scale,
            "value": float(k * t.scale),
        }
        for t in tensors
        for i, k in enumerate(t.integers)
    ]
    write_csv(out / "weights.csv", rows, ["tensor", "index", "integer", "scale", "value"])
    return summary


def read_weights(path: str | os.PathLike[str]) -> dict[str, npt.NDArray[np.float64]]:
    """The tensors of a ``weights.json`` as float64 arrays (``integer · scale``) in torch shape.

    Raises
    ------
    DataError
        If the file is not a weights file written by :func:`export_weights`.
    """
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        return {
            t["name"]: (np.asarray(t["integers"], dtype=np.float64) * t["scale"]).reshape(
                t["shape"]
            )
            for t in payload["tensors"]
        }
    except (OSError, ValueError, KeyError, TypeError) as exc:
        msg = f"cannot read on-chip weights {str(path)!r} ({type(exc).__name__}: {exc}); expected a weights.json of `hgcal-ae export --format weights`"
        raise DataError(msg) from exc


def weights_codes(
    weights: dict[str, npt.NDArray[np.float64]], images: npt.NDArray[np.float32], latent_bits: int
) -> npt.NDArray[np.int64]:
    """The codes an encoder with these integer weights makes, in exact (float64) arithmetic:
    conv 3x3 stride 2 'same' → ReLU → dense → latent rounded half to even, saturated."""
    x = np.pad(np.asarray(images, dtype=np.float64)[:, 0], ((0, 0), (1, 1), (1, 1)))
    # 3x3 patches at stride 2: (N, 4, 4, 9)
    patches = np.stack(
        [x[:, r : r + 8 : 2, c : c + 8 : 2] for r in range(3) for c in range(3)], axis=-1
    )
    w1 = weights["conv.weight"].reshape(len(weights["conv.bias"]), 9)
    h = np.maximum(patches @ w1.T + weights["conv.bias"], 0.0)  # (N, 4, 4, filters)
    flat = h.transpose(0, 3, 1, 2).reshape(len(x), -1)  # channel-first flatten, as torch
    latent = flat @ weights["dense.weight"].T + weights["dense.bias"]
    step = 2.0 ** (1 - latent_bits)
    return np.round(np.clip(latent, 0.0, 2.0 - step) / step).astype(np.int64)
