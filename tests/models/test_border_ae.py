from __future__ import annotations

import numpy as np
import pytest
import torch

from hgcal_ae.errors import ConfigError, DataError
from hgcal_ae.models.border_ae import (
    BorderAEConfig,
    BorderAutoencoder,
    BorderTrainingConfig,
    border_inputs,
    decode_with_border,
    train_border_autoencoder,
)
from hgcal_ae.models.module_ae import ModuleAEConfig, ModuleAutoencoder
from hgcal_ae.models.module_training import ModuleTrainingConfig, decode_modules
from hgcal_ae.trigger.formats import SUM_5E4M

LSB = 2 / 45  # ld8: 45 ADC per MIP, one bit dropped
B = 24


def _rows(n, seed=0):
    """Toy modules (three neighbouring TCs) and border charges that continue them [MIP]."""
    rng = np.random.default_rng(seed)
    tc = np.zeros((n, 48))
    start = rng.integers(0, 46, n)
    for k in range(3):
        tc[np.arange(n), start + k] = rng.exponential(10.0, n) / (k + 1)
    border = rng.exponential(2.0, (n, B)) * (rng.random((n, B)) < 0.2)
    return tc, border


class Killed(Exception):
    pass


def test_output_shape_and_quantised_latent():
    bits = 3
    model = BorderAutoencoder(BorderAEConfig(latent_bits=bits, n_border=B))
    with torch.no_grad():  # spread the code over its range, so that many levels are used
        model.dense.bias.fill_(0.8)
    tc, border = _rows(400)
    images, values, _ = border_inputs(tc, border)
    out = model(images, values)
    assert out.shape == (400, 1, 8, 8) and (out[..., 4:, 4:] == 0).all()
    code = model.encode(images, values).detach().numpy()
    levels = np.unique(code)
    step = 2.0 ** (1 - bits)
    assert levels.size <= 2**bits and levels.size > 2
    np.testing.assert_array_equal(levels / step, np.round(levels / step))
    assert levels.min() >= 0 and levels.max() <= 2 - step
    counts = model.parameter_counts()
    plain = ModuleAutoencoder(ModuleAEConfig(latent_bits=bits)).parameter_counts()
    assert counts["encoder"] - plain["encoder"] == B * 16 and counts["decoder"] == plain["decoder"]


def test_border_is_used_and_none_means_zeros():
    model = BorderAutoencoder(BorderAEConfig(n_border=B))
    with torch.no_grad():
        model.dense.bias.fill_(0.5)
    tc, border = _rows(50)
    images, values, _ = border_inputs(tc, border)
    with torch.no_grad():
        none, zeros = model.encode(images), model.encode(images, torch.zeros_like(values))
        assert torch.equal(none, zeros) and not torch.equal(model.encode(images, values), none)
    with pytest.raises(ConfigError, match=r"border must have shape \(50, 24\)"):
        model.encode(images, values[:, :20])


def test_border_inputs_use_the_module_scale():
    tc = np.zeros((3, 48))
    tc[0, 0], tc[1, 5] = 10.0, 3.0  # sumlog2 scales 8 and 2; module 2 is empty
    border = np.zeros((3, B))
    border[0, :3] = [4.0, 100.0, 1.0 / 3.0]  # 0.5, saturates at 2, rounds to 1/256 steps
    border[2, 0] = 5.0  # an empty module gets no border input
    images, values, scale = border_inputs(tc, border)
    assert scale.tolist() == [8.0, 2.0, 0.0] and values.dtype == torch.float32
    assert values[0, :3].tolist() == [0.5, 2.0, round(256 / 24) / 256]
    assert float(values[1:].abs().sum()) == 0.0
    assert float(images[0, 0, 0, 0]) == 10 / 8


def test_training_lowers_the_loss_and_resumes_exactly(tmp_path):
    cfg = BorderTrainingConfig(epochs=3, batch_size=64, learning_rate=3e-3, n_border=B)
    train, val = _rows(1200, 1), _rows(300, 2)
    ref, ref_fit = train_border_autoencoder(cfg, *train, *val, checkpoint=tmp_path / "ref.pt")
    losses = [r.val_loss for r in ref_fit.history]
    assert losses[-1] < 0.7 * losses[0]

    def kill(record):
        if record.epoch == 2:
            raise Killed

    with pytest.raises(Killed):
        train_border_autoencoder(cfg, *train, *val, checkpoint=tmp_path / "run.pt", on_epoch=kill)
    model, resumed = train_border_autoencoder(cfg, *train, *val, checkpoint=tmp_path / "run.pt")
    assert resumed.resumed_from == 2
    for key, value in ref.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    other = BorderTrainingConfig(epochs=3, batch_size=64, learning_rate=3e-3, n_border=12)
    with pytest.raises(ConfigError, match="belongs to another configuration"):
        train_border_autoencoder(
            other,
            train[0],
            train[1][:, :12],
            val[0],
            val[1][:, :12],
            checkpoint=tmp_path / "run.pt",
        )


def _twins(head):
    """A module AE and a border AE with the same weights and zero weights on the border."""
    plain = ModuleAutoencoder(ModuleAEConfig(latent_bits=5, decoder_head=head))
    model = BorderAutoencoder(BorderAEConfig(latent_bits=5, decoder_head=head, n_border=B))
    state = plain.state_dict()
    state["dense.weight"] = torch.cat([state["dense.weight"], torch.zeros(16, B)], dim=1)
    model.load_state_dict(state)
    return plain, model


@pytest.mark.parametrize("head", ["softmax", "sigmoid"])
def test_forward_matches_the_module_ae_without_border(head):
    plain, model = _twins(head)
    tc, border = _rows(100, 4)
    images, values, _ = border_inputs(tc, border)
    with torch.no_grad():
        torch.testing.assert_close(model(images, values), plain(images))


def test_decoding_matches_decode_modules_without_border():
    """With zero border weights the border AE is the module AE: same decoded charges."""
    plain, model = _twins("softmax")
    tc, border = _rows(200, 3)
    tc[7] = 0.0  # an empty module stays empty
    for zero_suppress in (0.0, 0.5):
        ours = decode_with_border(model, tc, border, lsb=LSB, zero_suppress=zero_suppress)
        theirs = decode_modules(plain, tc, lsb=LSB, zero_suppress=zero_suppress)
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.sum(axis=1), SUM_5E4M.quantise(tc.sum(axis=1), lsb=LSB))
    assert ours[7].sum() == 0


def test_config_from_module_keeps_every_setting():
    module = ModuleTrainingConfig(
        latent_dim=8, latent_bits=4, epochs=7, seed=3, loss="mse", decoder_head="sigmoid"
    )
    cfg = BorderTrainingConfig.from_module(module, 24)
    assert cfg.ae_config() == BorderAEConfig(
        latent_dim=8, latent_bits=4, decoder_head="sigmoid", n_border=24
    )
    assert (cfg.epochs, cfg.seed, cfg.loss) == (7, 3, "mse")
    with pytest.raises(ConfigError, match=r"n_border must be an integer in 0\.\.512"):
        BorderTrainingConfig(n_border=-1)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (lambda tc, b: (tc, b[:-1]), ConfigError, r"border must have shape \(300, 24\)"),
        (lambda tc, b: (tc, b[:, :23]), ConfigError, r"border must have shape \(300, 24\)"),
        (lambda tc, b: (tc[:, :47], b), ConfigError, r"tc must have shape \(N, 48\)"),
        (lambda tc, b: (np.where(tc > 5, np.nan, tc), b), DataError, "tc must hold finite charges"),
        (lambda tc, b: (tc, b + np.inf), DataError, "border must hold finite charges"),
    ],
)
def test_bad_inputs_give_one_clear_error(change, error, message):
    cfg = BorderTrainingConfig(epochs=1, n_border=B)
    train = change(*_rows(300))
    with pytest.raises(error, match=message):
        train_border_autoencoder(cfg, *train, *_rows(50, 1))


def test_bad_config_type_and_empty_sets_are_refused():
    tc, border = _rows(50)
    with pytest.raises(ConfigError, match="config must be a BorderTrainingConfig"):
        train_border_autoencoder(ModuleTrainingConfig(epochs=1), tc, border, tc, border)
    with pytest.raises(ConfigError, match="needs non-empty modules"):
        train_border_autoencoder(
            BorderTrainingConfig(epochs=1), np.zeros((10, 48)), np.zeros((10, B)), tc, border
        )
