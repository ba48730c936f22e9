from __future__ import annotations

import numpy as np
import pytest
import torch

from hgcal_ae.errors import ConfigError
from hgcal_ae.models.module_training import (
    ModuleTrainingConfig,
    autoencoder_output,
    decode_modules,
    module_inputs,
    train_module_autoencoder,
)
from hgcal_ae.trigger.formats import SUM_5E4M

LSB = 2 / 45  # ld8: 45 ADC per MIP, one bit dropped


def _modules(n, seed=0):
    """Toy modules: a few neighbouring TCs of one rhombus row with exponential charges [MIP]."""
    rng = np.random.default_rng(seed)
    tc = np.zeros((n, 48))
    start = rng.integers(0, 46, n)
    for k in range(3):  # three adjacent TCs per module (a loop over 3 offsets, not over modules)
        tc[np.arange(n), start + k] = rng.exponential(10.0, n) / (k + 1)
    return tc


class Killed(Exception):
    pass


def test_inputs_are_the_econt_images():
    tc = np.zeros((2, 48))
    tc[0, 0], tc[0, 16] = 10.0, 7.0
    images, scale = module_inputs(tc)
    assert images.shape == (2, 1, 8, 8) and scale.tolist() == [16.0, 0.0]
    assert float(images[0, 0, 0, 0]) == pytest.approx(10 / 16, abs=1 / 512)
    assert float(images[0, 0, 0, 4]) == pytest.approx(7 / 16, abs=1 / 512)
    assert float(images[1].abs().sum()) == 0.0


def test_training_lowers_the_loss_and_resumes_exactly(tmp_path):
    cfg = ModuleTrainingConfig(epochs=4, batch_size=64, learning_rate=3e-3)
    train, val = _modules(2000, 1), _modules(400, 2)
    ref, ref_fit = train_module_autoencoder(cfg, train, val, checkpoint=tmp_path / "ref.pt")
    losses = [r.val_loss for r in ref_fit.history]
    assert losses[-1] < 0.7 * losses[0]

    def kill(record):
        if record.epoch == 2:
            raise Killed

    with pytest.raises(Killed):
        train_module_autoencoder(cfg, train, val, checkpoint=tmp_path / "run.pt", on_epoch=kill)
    model, resumed = train_module_autoencoder(cfg, train, val, checkpoint=tmp_path / "run.pt")
    assert resumed.resumed_from == 2
    for key, value in ref.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_decoded_modules_keep_the_transmitted_sum():
    cfg = ModuleTrainingConfig(epochs=1, batch_size=256)
    model, _ = train_module_autoencoder(cfg, _modules(1000), _modules(200, 3))
    tc = _modules(50, 4)
    tc[7] = 0.0  # an empty module stays empty
    out = decode_modules(model, tc, lsb=LSB)
    assert out.shape == (50, 48) and np.all(out >= 0)
    np.testing.assert_allclose(
        out.sum(axis=1), SUM_5E4M.quantise(tc.sum(axis=1), lsb=LSB), rtol=1e-9
    )
    assert out[7].sum() == 0
    suppressed = decode_modules(model, tc, lsb=LSB, zero_suppress=0.5)
    assert suppressed[(suppressed > 0)].min() >= 0.5
    assert (suppressed > 0).sum() < (out > 0).sum()  # the faint haze is gone...
    np.testing.assert_allclose(
        suppressed.sum(axis=1), out.sum(axis=1), rtol=1e-9
    )  # ...its energy is not


def test_autoencoder_as_an_econt_algorithm():
    model, _ = train_module_autoencoder(
        ModuleTrainingConfig(epochs=1, latent_bits=5), _modules(500), _modules(100, 5)
    )
    out = autoencoder_output(model, _modules(20, 6), 3, lsb=LSB)
    assert out.name == "autoencoder" and np.all(out.bits == 5 + 9 + 16 * 5) and out.fits.all()
    with pytest.raises(ConfigError, match=r"latent 16 × 5 bits = 80 bits does not fit 2 e-links"):
        autoencoder_output(model, _modules(20, 6), 2, lsb=LSB)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"loss": "l2"}, "unknown loss 'l2'"), ({"latent_dim": 64}, r"latent_dim must be an integer in 1\.\.48"),
     ({"epochs": 0}, "epochs must be a positive integer")],
)  # fmt: skip
def test_bad_training_configuration(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ModuleTrainingConfig(**kwargs)


def test_empty_training_set_is_refused():
    with pytest.raises(ConfigError, match="needs non-empty modules"):
        train_module_autoencoder(ModuleTrainingConfig(epochs=1), np.zeros((10, 48)), _modules(10))
