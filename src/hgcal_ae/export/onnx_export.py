"""The encoder and the decoder as ONNX models, and their check with onnxruntime.

Public API::

    export_onnx(model, folder) -> dict           # encoder.onnx, decoder.onnx, onnx.json
    verify_onnx(model, folder, images) -> dict   # codes differing, decoder deviation

* ``encoder.onnx``: input ``images`` (N, 1, 8, 8) float32, the ECON-T-normalised 8-bit
  inputs; output ``codes`` (N, latent_dim) int64, the latent code as transmitted.
* ``decoder.onnx``: input ``codes`` (N, latent_dim) int64; output ``shapes`` (N, 1, 8, 8)
  float32, the decoded image for a module sum of 1 (the off-detector chain scales it to the
  transmitted sum, :func:`hgcal_ae.trigger.transmission.to_module_sum`).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from hgcal_ae.atomic import write_json
from hgcal_ae.export.encoder import CodeEncoder, ModelLike, code_step, latent_codes, load_model
from hgcal_ae.export.tools import require_package
from hgcal_ae.models.module_ae import ModuleAutoencoder

__all__ = ["DECODER_TOLERANCE", "OPSET", "export_onnx", "verify_onnx"]

OPSET = 17
#: |ONNX − PyTorch| of a decoded value (a normalised TC of a unit module sum) that passes.
DECODER_TOLERANCE = 1e-5


class _CodeDecoder(nn.Module):
    """Codes (N, latent_dim) int64 → the decoded image (N, 1, 8, 8) of a unit module sum."""

    def __init__(self, model: ModuleAutoencoder) -> None:
        super().__init__()
        self.model = model
        self.step = code_step(model)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        return self.model.decode(codes.to(torch.float32) * self.step, 1.0)


def _export(module: nn.Module, example: torch.Tensor, path: Path, names: tuple[str, str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            module, (example,), str(path), input_names=[names[0]], output_names=[names[1]],
            dynamic_axes={names[0]: {0: "N"}, names[1]: {0: "N"}}, opset_version=OPSET,
            dynamo=False,
        )  # fmt: skip


def export_onnx(model: ModelLike, folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Write ``encoder.onnx``, ``decoder.onnx`` and ``onnx.json`` (opset and I/O conventions)
    into ``folder``; return the conventions.

    Raises
    ------
    ExportToolError
        If onnx (from the export extra) is not installed.
    """
    require_package("onnx")
    ae = load_model(model)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    cfg = ae.config
    _export(CodeEncoder(ae), torch.zeros(2, 1, 8, 8), out / "encoder.onnx", ("images", "codes"))
    example_codes = torch.zeros(2, cfg.latent_dim, dtype=torch.int64)
    _export(_CodeDecoder(ae).eval(), example_codes, out / "decoder.onnx", ("codes", "shapes"))
    step = code_step(ae)
    conventions = {
        "opset": OPSET,
        "encoder": {
            "file": "encoder.onnx",
            "input": {"name": "images", "shape": ["N", 1, 8, 8], "dtype": "float32",
                      "meaning": "ECON-T inputs: 48 TC charges / 2^floor(log2 module sum), rounded to steps of 1/256, in the 8x8 layout (lower-right 4x4 zero)"},
            "output": {"name": "codes", "shape": ["N", cfg.latent_dim], "dtype": "int64",
                       "meaning": f"latent code k in 0..{2**cfg.latent_bits - 1}: the transmitted value is k * {step} (unsigned, {cfg.latent_bits} bits, 1 integer bit, halves rounded to even)"},
        },
        "decoder": {
            "file": "decoder.onnx",
            "input": {"name": "codes", "shape": ["N", cfg.latent_dim], "dtype": "int64",
                      "meaning": "the latent codes as transmitted"},
            "output": {"name": "shapes", "shape": ["N", 1, 8, 8], "dtype": "float32",
                       "meaning": f"decoded image for a module sum of 1 ({cfg.decoder_head} head); multiply by the transmitted module sum"},
        },
        "latent_dim": cfg.latent_dim,
        "latent_bits": cfg.latent_bits,
        "code_step": step,
        "quantised_weights": cfg.quantised_weights,
    }  # fmt: skip
    write_json(out / "onnx.json", conventions)
    return conventions


def _session(path: Path) -> Any:
    ort = require_package("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_codes(
    folder: str | os.PathLike[str], images: npt.NDArray[np.float32]
) -> npt.NDArray[np.int64]:
    """The codes ``encoder.onnx`` in ``folder`` makes for ``images`` (onnxruntime, CPU)."""
    session = _session(Path(folder) / "encoder.onnx")
    codes: npt.NDArray[np.int64] = session.run(
        ["codes"], {"images": np.ascontiguousarray(images, dtype=np.float32)}
    )[0]
    return codes


def verify_onnx(
    model: ModelLike, folder: str | os.PathLike[str], images: npt.NDArray[np.float32]
) -> dict[str, Any]:
    """Run ``images`` through PyTorch and the ONNX encoder and decoder with onnxruntime.

    Returns the counts (``modules``, ``codes_differing``, ``modules_differing``), the largest
    decoder deviation on PyTorch's codes and whether both checks pass (``exact``: no code
    differs; ``decoder_ok``: deviation <= :data:`DECODER_TOLERANCE`).
    """
    ae = load_model(model)
    reference = latent_codes(ae, images)
    codes = onnx_codes(folder, images)
    differ = codes != reference
    decoder = _session(Path(folder) / "decoder.onnx")
    decoded = decoder.run(["shapes"], {"codes": reference})[0]
    with torch.no_grad():
        expected = _CodeDecoder(ae)(torch.from_numpy(reference)).numpy()
    deviation = float(np.abs(decoded - expected).max()) if len(images) else 0.0
    return {
        "modules": len(images),
        "codes_differing": int(differ.sum()),
        "modules_differing": int(differ.any(axis=1).sum()),
        "exact": not bool(differ.any()),
        "decoder_max_abs_deviation": deviation,
        "decoder_tolerance": DECODER_TOLERANCE,
        "decoder_ok": deviation <= DECODER_TOLERANCE,
    }
