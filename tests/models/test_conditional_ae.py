"""The conditional decoder (ECON_CAE) of the module AE: shapes, errors, training, files, and
the unconditional model left as it was."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hgcal_ae.errors import ConfigError
from hgcal_ae.models.module_ae import (
    CONDITIONS,
    ModuleAEConfig,
    ModuleAutoencoder,
    condition_features,
    condition_width,
)
from hgcal_ae.models.module_training import (
    ModuleTrainingConfig,
    autoencoder_output,
    decode_shapes,
    load_module_ae,
    module_inputs,
    save_module_ae,
    saved_training_config,
    train_module_autoencoder,
)

ALL = tuple(CONDITIONS)
LSB = 2 / 45


def _modules(n, seed=0):
    """Toy modules: three adjacent TCs with exponential charges (as test_module_training)."""
    rng = np.random.default_rng(seed)
    tc = np.zeros((n, 48))
    start = rng.integers(0, 46, n)
    for k in range(3):
        tc[np.arange(n), start + k] = rng.exponential(10.0, n) / (k + 1)
    return tc


def _conditions(tc, seed=0):
    rng = np.random.default_rng(seed)
    n = len(tc)
    return {
        "abs_eta": rng.uniform(1.5, 3.0, n),
        "layer": rng.integers(1, 29, n),
        "wafer_type": rng.integers(0, 3, n),
        "log_sum": np.log(tc.sum(axis=1) * 35 + 1),
    }


def test_condition_features_are_econ_cae_scaled_and_one_hot():
    f = condition_features(ALL, {"abs_eta": [3.1, 1.55], "layer": [1, 47],
                                 "wafer_type": [2, 0], "log_sum": [0.5, 4.0]})  # fmt: skip
    assert f.dtype == torch.float32 and f.shape == (2, condition_width(ALL)) == (2, 6)
    expected = [[1.0, 0.0, 0, 0, 1, 0.05], [0.5, 1.0, 1, 0, 0, 0.4]]  # ln-sum / 10
    torch.testing.assert_close(f, torch.tensor(expected))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"abs_eta": [2.0]}, "condition 'layer' has no values"),
        ({"abs_eta": [2.0], "layer": [1, 2]}, "different lengths"),
        ({"abs_eta": [np.nan], "layer": [1]}, "non-finite"),
    ],
)
def test_bad_condition_values(values, message):
    with pytest.raises(ConfigError, match=message):
        condition_features(("abs_eta", "layer"), values)


def test_wafer_type_outside_the_three_types():
    with pytest.raises(ConfigError, match="wafer_type"):
        condition_features(("wafer_type",), {"wafer_type": [3]})


@pytest.mark.parametrize("conditions", [("eta",), "abs_eta", ("layer", "layer")])
def test_bad_condition_names(conditions):
    with pytest.raises(ConfigError, match="conditions must"):
        ModuleAEConfig(conditions=conditions)


def test_conditional_decoder_shapes_and_its_conditions_matter():
    torch.manual_seed(0)
    model = ModuleAutoencoder(ModuleAEConfig(latent_dim=16, latent_bits=3, conditions=ALL))
    counts = model.parameter_counts()
    assert counts["encoder"] == ModuleAutoencoder().parameter_counts()["encoder"]  # unchanged
    assert counts["decoder"] == 2833 + 6 * 128  # six more inputs to the first dense layer
    tc = _modules(32)
    shapes = decode_shapes(model, tc, conditions=_conditions(tc, 1))
    assert shapes.shape == (32, 48)
    images, _ = module_inputs(tc)  # softmax head: the shape, scaled to the input's sum
    np.testing.assert_allclose(shapes.sum(axis=1), images.sum(dim=(1, 2, 3)), rtol=1e-5)
    other = decode_shapes(model, tc, conditions=_conditions(tc, 2))
    assert np.abs(shapes - other).max() > 1e-4


def test_a_conditional_ae_without_its_conditions_is_one_clear_error():
    model = ModuleAutoencoder(ModuleAEConfig(conditions=("abs_eta", "layer")))
    tc = _modules(8)
    with pytest.raises(ConfigError, match=r"decodes with conditions \('abs_eta', 'layer'\)"):
        model(torch.rand(8, 1, 8, 8))
    with pytest.raises(ConfigError, match=r"decoding: a conditional module AE .* got none"):
        autoencoder_output(model, tc, 2, lsb=LSB)
    with pytest.raises(ConfigError, match=r"expected \(8, 2\)"):
        model(torch.rand(8, 1, 8, 8), torch.rand(8, 3))
    with pytest.raises(ConfigError, match="has no conditions"):
        decode_shapes(ModuleAutoencoder(), tc, conditions=_conditions(tc))


def test_a_tiny_conditional_training_runs_and_its_file_round_trips(tmp_path):
    cfg = ModuleTrainingConfig(
        latent_dim=16, latent_bits=3, epochs=2, batch_size=64, conditions=ALL
    )
    train, val = _modules(400, 1), _modules(100, 2)
    train[:5] = 0.0  # empty modules are left out, with their conditions
    with pytest.raises(ConfigError, match="train_conditions: a conditional module AE"):
        train_module_autoencoder(cfg, train, val)
    model, fit = train_module_autoencoder(
        cfg, train, val, train_conditions=_conditions(train, 1),
        val_conditions=_conditions(val, 2),
    )  # fmt: skip
    assert len(fit.history) == 2 and all(np.isfinite(r.val_loss) for r in fit.history)
    path = save_module_ae(tmp_path / "model.pt", model, cfg, fit.history)
    loaded = load_module_ae(path)
    assert loaded.config.conditions == ALL and saved_training_config(path) == cfg
    cond = _conditions(val, 3)
    out = autoencoder_output(loaded, val, 2, lsb=LSB, conditions=cond)
    ref = autoencoder_output(model.eval(), val, 2, lsb=LSB, conditions=cond)
    np.testing.assert_array_equal(out.reconstructed, ref.reconstructed)


def test_the_unconditional_model_is_unchanged():
    """Same seed, same weights as before conditional decoders existed (sums recorded then)."""
    torch.manual_seed(0)
    model = ModuleAutoencoder(ModuleAEConfig(latent_dim=16, latent_bits=3))
    sums = {k: float(v.double().sum()) for k, v in model.state_dict().items()}
    assert sums == pytest.approx({
        "conv.weight": -0.890139118768, "conv.bias": 0.589980801567,
        "dense.weight": -0.206989711522, "dense.bias": -0.103715205565,
        "decoder.0.weight": -8.479127019644, "decoder.0.bias": -1.006157338619,
        "decoder.3.weight": -0.34154857674, "decoder.3.bias": -0.044062422588,
        "decoder.5.weight": -3.098673285916, "decoder.5.bias": -3.0,
    }, rel=1e-9)  # fmt: skip
    cfg = ModuleTrainingConfig(latent_dim=16, latent_bits=3, epochs=2, batch_size=64,
                               learning_rate=3e-3)  # fmt: skip
    _, fit = train_module_autoencoder(cfg, _modules(300, 1), _modules(100, 2))
    losses = [r.val_loss for r in fit.history]
    assert losses == pytest.approx([0.7437623143196106, 0.7414958477020264], rel=1e-5)
