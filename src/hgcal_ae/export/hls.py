"""The encoder as an hls4ml project (Vitis backend, ``io_parallel``) and its C++ emulation.

Public API::

    fixed_point_types(model) -> FixedPointTypes       # exact types derived from the weights
    export_hls4ml(model, folder, types=None) -> HlsProject   # convert, write, compile with g++
    HlsProject.codes(images) -> (N, latent_dim) int64 # the compiled emulation's codes
    verify_hls4ml(model, project, images) -> dict     # codes differing from PyTorch's
    encoder_resources(model) -> dict                  # parameters, multiplications per inference

**Why the codes are exact.**  The inputs are unsigned fixed point with 8 fractional bits
(econt.md §2; the largest is 2.0).  A product of an input and a weight with ``f``
fractional bits has ``8 + f``; the accumulators get those fractional bits and enough
integer bits for the largest sum the weights allow (``Σ|w|·max input + |b|``), so the
convolution, the ReLU and the dense sums are exact.  The latent is then
``ufixed<latent_bits, 1, RND_CONV, SAT>``: round halves to even (as ``torch.round``) and
saturate (negative values to 0, large ones to the top code), which is the study's latent
quantiser.  With weights trained in the 6-bit on-chip format (``quantised_weights``) this
is bit-exact; float weights are rounded to :data:`MAX_WEIGHT_FRACTION` fractional bits and
the types say ``exact: False``.  hls4ml's default ``TRN``/``WRAP`` latent instead truncates
and wraps negative sums around: the check then reports differing codes.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from hgcal_ae.export.encoder import ModelLike, PlainEncoder, code_step, latent_codes, load_model
from hgcal_ae.export.tools import require_compiler, require_package
from hgcal_ae.models.module_ae import ModuleAutoencoder
from hgcal_ae.trigger.normalisation import INPUT_BITS

__all__ = [
    "MAX_WEIGHT_FRACTION",
    "PROJECT_NAME",
    "FixedPointTypes",
    "HlsProject",
    "encoder_resources",
    "export_hls4ml",
    "fixed_point_types",
    "verify_hls4ml",
]

PROJECT_NAME = "econt_encoder"
BACKEND = "Vitis"
IO_TYPE = "io_parallel"
#: fractional bits given to float (not quantisation-aware) weights; codes are then not exact
MAX_WEIGHT_FRACTION = 16
INPUT_MAX = 2.0  # sumlog2 inputs rounded to 1/256 lie in [0, 2]


@dataclass(frozen=True)
class FixedPointTypes:
    """The hls4ml precision of each tensor of the encoder (ap_fixed notation)."""

    input: str
    conv_weight: str
    conv_bias: str
    conv_accum: str
    relu: str
    dense_weight: str
    dense_bias: str
    dense_accum: str
    latent: str
    exact: bool  # whether the weights are held exactly (quantisation-aware weights)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fraction_bits(values: npt.NDArray[np.float64]) -> tuple[int, bool]:
    """Fractional bits holding every value exactly (capped at MAX_WEIGHT_FRACTION) and
    whether that cap was enough."""
    for f in range(MAX_WEIGHT_FRACTION + 1):
        scaled = values * 2.0**f
        if np.array_equal(scaled, np.round(scaled)):
            return f, True
    return MAX_WEIGHT_FRACTION, False


def _signed(top: float, fraction: int, bottom: float | None = None) -> str:
    """``fixed<W,I>`` holding [``bottom``, ``top``] (default [−top, top]) with ``fraction``
    fractional bits."""
    low = -top if bottom is None else bottom
    integer = 1 + max(0, math.ceil(math.log2(max(top, 0.0) + 2.0**-fraction)))
    if low < 0:
        integer = max(integer, 1 + math.ceil(math.log2(-low)))
    return f"fixed<{integer + fraction},{integer}>"


def _unsigned(bound: float, fraction: int) -> tuple[str, int]:
    integer = max(1, math.ceil(math.log2(bound + 2.0**-fraction)))
    return f"ufixed<{integer + fraction},{integer}>", integer


def _weight_type(values: npt.NDArray[np.float64], fraction: int) -> str:
    return _signed(float(values.max()), fraction, float(values.min()))


def fixed_point_types(
    model: ModelLike, *, rounding: str = "RND_CONV", overflow: str = "SAT"
) -> FixedPointTypes:
    """Fixed-point types under which the hls4ml encoder reproduces the PyTorch codes.

    ``rounding``/``overflow`` are the latent's modes; hls4ml's defaults ``TRN``/``WRAP``
    give codes that differ (the check's negative test).
    """
    ae = load_model(model)
    t = PlainEncoder(ae).tensors()
    w1 = t["conv.weight"].reshape(ae.config.filters, -1)
    b1, w2, b2 = t["conv.bias"], t["dense.weight"], t["dense.bias"]
    (fw1, e1), (fb1, e2), (fw2, e3), (fb2, e4) = map(_fraction_bits, (w1, b1, w2, b2))
    f_in = INPUT_BITS
    f_conv = max(f_in + fw1, fb1)
    bound_conv = float((np.abs(w1).sum(axis=1) * INPUT_MAX + np.abs(b1)).max())
    relu, relu_integer = _unsigned(bound_conv, f_conv)
    bound_relu = 2.0**relu_integer
    f_dense = max(f_conv + fw2, fb2)
    bound_dense = float((np.abs(w2).sum(axis=1) * bound_relu + np.abs(b2)).max())
    bits = ae.config.latent_bits
    return FixedPointTypes(
        input=_unsigned(INPUT_MAX, f_in)[0],
        conv_weight=_weight_type(w1, fw1),
        conv_bias=_weight_type(b1, fb1),
        conv_accum=_signed(bound_conv, f_conv),
        relu=relu,
        dense_weight=_weight_type(w2, fw2),
        dense_bias=_weight_type(b2, fb2),
        dense_accum=_signed(bound_dense, f_dense),
        latent=f"ufixed<{bits},1,{rounding},{overflow}>",
        exact=e1 and e2 and e3 and e4,
    )


def encoder_resources(model: ModelLike) -> dict[str, int]:
    """What hls4ml builds without a vendor tool to count: parameters and multiplications per
    inference (a fully parallel encoder has one multiplier for each).

    Counted from the encoder's layers: the convolution makes one product per output position,
    filter and kernel weight (16 positions × filters × 3×3 for the 8×8 input at stride 2);
    the dense layer one per weight (its inputs × latent_dim).
    """
    plain = PlainEncoder(load_model(model))
    with torch.no_grad():
        conv_out = plain.conv(torch.zeros(1, 1, 8, 8))
    positions = conv_out.shape[-2] * conv_out.shape[-1]
    conv_mults = positions * plain.conv.weight.numel()  # filters × in-channels × kernel
    dense_mults = plain.dense.weight.numel()  # inputs × latent_dim
    return {
        "parameters": sum(p.numel() for p in plain.parameters()),
        "conv_multiplications": int(conv_mults),
        "dense_multiplications": int(dense_mults),
        "multiplications": int(conv_mults + dense_mults),
    }


def _hls_config(hls4ml: Any, plain: PlainEncoder, types: FixedPointTypes) -> dict[str, Any]:
    config: dict[str, Any] = hls4ml.utils.config_from_pytorch_model(
        plain, input_shape=(1, 8, 8), granularity="name", backend=BACKEND,
        default_precision="fixed<16,6>",
    )  # fmt: skip
    layers = config["LayerName"]
    layers["x"]["Precision"]["result"] = types.input
    layers["conv"]["Precision"].update(
        weight=types.conv_weight, bias=types.conv_bias, accum=types.conv_accum,
        result=types.conv_accum,
    )  # fmt: skip
    layers["relu"]["Precision"]["result"] = types.relu
    layers["flatten"]["Precision"]["result"] = types.relu
    layers["dense"]["Precision"].update(
        weight=types.dense_weight, bias=types.dense_bias, accum=types.dense_accum,
        result=types.latent,
    )  # fmt: skip
    return config


@dataclass
class HlsProject:
    """A written and compiled hls4ml project of the encoder."""

    folder: Path
    types: FixedPointTypes
    step: float
    latent_dim: int
    hls_model: Any

    def codes(self, images: npt.NDArray[np.float32], batch: int = 50000) -> npt.NDArray[np.int64]:
        """The codes the compiled C++ emulation makes for ``images`` ``(N, 1, 8, 8)``."""
        flat = np.ascontiguousarray(np.asarray(images, dtype=np.float32).reshape(len(images), -1))
        if len(flat) == 0:
            return np.zeros((0, self.latent_dim), dtype=np.int64)
        parts = []
        for start in range(0, len(flat), batch):
            out = np.asarray(self.hls_model.predict(flat[start : start + batch]), dtype=np.float64)
            parts.append(out.reshape(-1, self.latent_dim))
        return np.round(np.concatenate(parts) / self.step).astype(np.int64)


def export_hls4ml(
    model: ModelLike,
    folder: str | os.PathLike[str],
    types: FixedPointTypes | None = None,
    *,
    testbench: npt.NDArray[np.float32] | None = None,
) -> HlsProject:
    """Convert the encoder with hls4ml, write the project into ``folder`` and compile its C++
    emulation with g++.

    ``testbench``: images ``(N, 1, 8, 8)`` written with PyTorch's latent values into the
    project's ``tb_data/`` (``tb_input_features.dat``, ``tb_output_predictions.dat``), the
    vectors of its C-simulation test bench.

    Raises
    ------
    ExportToolError
        If hls4ml is not installed or there is no g++.
    """
    hls4ml = require_package("hls4ml")
    require_compiler()
    ae: ModuleAutoencoder = load_model(model)
    types = types or fixed_point_types(ae)
    plain = PlainEncoder(ae)
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet), tempfile.TemporaryDirectory() as vectors:
        tb: dict[str, str] = {}
        if testbench is not None:
            flat = np.asarray(testbench, dtype=np.float32).reshape(len(testbench), -1)
            latent = latent_codes(ae, testbench) * code_step(ae)
            tb = {
                "input_data_tb": f"{vectors}/input.npy",
                "output_data_tb": f"{vectors}/output.npy",
            }
            np.save(tb["input_data_tb"], flat)
            np.save(tb["output_data_tb"], latent)
        hls_model = hls4ml.converters.convert_from_pytorch_model(
            plain, hls_config=_hls_config(hls4ml, plain, types), output_dir=str(folder),
            backend=BACKEND, io_type=IO_TYPE, project_name=PROJECT_NAME, **tb,
        )  # fmt: skip
        hls_model.compile()
    return HlsProject(Path(folder), types, code_step(ae), ae.config.latent_dim, hls_model)


def verify_hls4ml(
    model: ModelLike, project: HlsProject, images: npt.NDArray[np.float32]
) -> dict[str, Any]:
    """Codes of ``images`` from PyTorch and from the compiled emulation: how many differ."""
    reference = latent_codes(model, images)
    differ = project.codes(images) != reference
    return {
        "modules": len(images),
        "codes_differing": int(differ.sum()),
        "modules_differing": int(differ.any(axis=1).sum()),
        "exact": not bool(differ.any()),
    }
