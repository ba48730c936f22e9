"""The trained module encoder for hardware: ONNX, hls4ml and the on-chip weight format.

Public API::

    latent_codes(model, images) -> (N, latent_dim) int64    # the PyTorch reference codes
    export_model(model, "onnx" | "hls4ml" | "weights", output_dir, verify=N) -> summary
    export_onnx / verify_onnx         (hgcal_ae.export.onnx_export)
    export_hls4ml / verify_hls4ml / fixed_point_types   (hgcal_ae.export.hls)
    export_weights / read_weights / weights_codes       (hgcal_ae.export.weights)

onnx, onnxruntime and hls4ml come with the ``export`` extra (``pip install
'hgcal-ae[export]'``) and are imported only when a format needs them; ``latent_codes``
and the weights format need torch alone.
"""

from __future__ import annotations

from hgcal_ae.export.encoder import latent_codes, load_model, on_chip_weights, plain_encoder
from hgcal_ae.export.run import FORMATS, export_model

__all__ = [
    "FORMATS",
    "export_model",
    "latent_codes",
    "load_model",
    "on_chip_weights",
    "plain_encoder",
]
