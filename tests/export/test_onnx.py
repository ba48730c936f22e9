from __future__ import annotations

import json

import numpy as np
import onnx

from hgcal_ae.export import latent_codes
from hgcal_ae.export.onnx_export import OPSET, export_onnx, onnx_codes, verify_onnx


def test_onnx_encoder_makes_pytorchs_codes_and_the_decoder_its_images(tiny_ae, images, tmp_path):
    conventions = export_onnx(tiny_ae, tmp_path)
    encoder = onnx.load(tmp_path / "encoder.onnx")
    onnx.checker.check_model(encoder)
    assert [i.name for i in encoder.graph.input] == ["images"]
    assert [o.name for o in encoder.graph.output] == ["codes"]
    assert encoder.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert json.loads((tmp_path / "onnx.json").read_text()) == conventions
    assert conventions["opset"] == OPSET and conventions["code_step"] == 1 / 16
    codes = onnx_codes(tmp_path, images)
    assert codes.dtype == np.int64 and np.array_equal(codes, latent_codes(tiny_ae, images))
    check = verify_onnx(tiny_ae, tmp_path, images)
    assert check["codes_differing"] == 0 and check["exact"] and check["decoder_ok"]
    assert check["modules"] == 3000 and check["decoder_max_abs_deviation"] < 1e-6


def test_the_check_fails_when_the_onnx_encoder_is_not_the_models(
    tiny_ae, images, tiny_model, tmp_path
):
    export_onnx(tiny_model(seed=1), tmp_path)  # another encoder than the one checked against
    check = verify_onnx(tiny_ae, tmp_path, images)
    assert not check["exact"] and check["codes_differing"] > 1000 and not check["decoder_ok"]
