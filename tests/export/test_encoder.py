from __future__ import annotations

import numpy as np
import pytest
import torch

from hgcal_ae.errors import ConfigError, DataError
from hgcal_ae.export import latent_codes, load_model, on_chip_weights
from hgcal_ae.export.encoder import CodeEncoder
from hgcal_ae.export.modules import generated_modules, verification_images
from hgcal_ae.export.weights import export_weights, read_weights, weights_codes
from hgcal_ae.models.module_ae import ModuleAEConfig, ModuleAutoencoder


def test_latent_codes_are_the_quantised_latent_as_integers(tiny_ae, images):
    model = load_model(tiny_ae)
    codes = latent_codes(tiny_ae, images)
    assert codes.dtype == np.int64 and codes.shape == (len(images), 4)
    with torch.no_grad():
        latent = model.encode(torch.from_numpy(images)).numpy()
    assert np.array_equal(codes * 2.0**-4, latent)  # 5 bits, one integer bit: steps of 1/16
    assert codes.min() >= 0 and codes.max() <= 31
    assert all(np.unique(c).size >= 28 for c in codes.T), "every latent uses most of its codes"
    assert (codes == 0).any() and (codes == 31).any(), "both ends saturate"
    # the same from a loaded module, a folder, and torch inputs
    assert np.array_equal(latent_codes(model, torch.from_numpy(images)), codes)
    assert np.array_equal(latent_codes(tiny_ae.parent, images[:10]), codes[:10])


def test_the_plain_code_encoder_is_the_study_encoder(tiny_ae, images):
    encoder = CodeEncoder(load_model(tiny_ae))
    with torch.no_grad():
        assert np.array_equal(
            encoder(torch.from_numpy(images)).numpy(), latent_codes(tiny_ae, images)
        )


def test_inputs_of_another_shape_or_not_finite_are_refused(tiny_ae):
    with pytest.raises(ConfigError, match=r"\(N, 1, 8, 8\), got \(3, 8, 8\)"):
        latent_codes(tiny_ae, np.zeros((3, 8, 8), np.float32))
    with pytest.raises(ConfigError, match="NaN"):
        latent_codes(tiny_ae, np.full((1, 1, 8, 8), np.nan, np.float32))


def test_a_file_that_is_no_checkpoint_or_is_truncated_is_a_data_error(tiny_ae, tmp_path):
    (tmp_path / "text.pt").write_text("not a model\n")
    truncated = tmp_path / "cut" / "model.pt"
    truncated.parent.mkdir()
    truncated.write_bytes(tiny_ae.read_bytes()[:2000])
    for path in (tmp_path / "text.pt", truncated, truncated.parent, tmp_path / "none"):
        with pytest.raises(DataError, match="module autoencoder"):
            load_model(path)


def test_the_published_encoder_has_2144_six_bit_weights(tmp_path):
    torch.manual_seed(0)
    model = ModuleAutoencoder(ModuleAEConfig(quantised_weights=True))
    tensors = on_chip_weights(model)
    assert {t.name: t.integers.size for t in tensors} == {
        "conv.weight": 72, "conv.bias": 8, "dense.weight": 2048, "dense.bias": 16,
    }  # fmt: skip
    assert all(t.bits == 6 and t.scale == 2**-5 and t.max_abs_error == 0 for t in tensors)
    assert all(t.integers.min() >= -32 and t.integers.max() <= 31 for t in tensors)
    summary = export_weights(model, tmp_path)
    assert summary["values"] == 2144 and summary["bits_total"] == 12864 and summary["exact"]
    csv_lines = (tmp_path / "weights.csv").read_text().splitlines()
    assert len(csv_lines) == 1 + 2144 and csv_lines[0] == "tensor,index,integer,scale,value"


def test_codes_from_the_integer_weights_equal_pytorch(tiny_ae, images, tmp_path):
    export_weights(tiny_ae, tmp_path)
    codes = weights_codes(read_weights(tmp_path / "weights.json"), images, latent_bits=5)
    assert np.array_equal(codes, latent_codes(tiny_ae, images))


def test_float_weights_are_approximate_in_the_integer_format(tmp_path):
    torch.manual_seed(1)
    model = ModuleAutoencoder(ModuleAEConfig(latent_dim=4, filters=4))
    summary = export_weights(model, tmp_path)
    assert not summary["exact"] and 0 < summary["max_abs_error"] < 0.05
    scales = [t.scale for t in on_chip_weights(model)]
    assert all(np.log2(s) == round(np.log2(s)) for s in scales)  # powers of two


def test_generated_modules_are_seeded_and_on_the_input_grid():
    assert np.array_equal(generated_modules(50, 3), generated_modules(50, 3))
    images, source = verification_images(50, seed=3)
    assert images.shape == (50, 1, 8, 8) and "50 generated modules (seed 3)" in source
    assert np.array_equal(images * 256, np.round(images * 256))
    with pytest.raises(ConfigError, match="positive number"):
        verification_images(0)
