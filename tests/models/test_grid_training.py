"""The AE grid trained together equals its members trained alone (models/grid_training.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from hgcal_ae.errors import ConfigError
from hgcal_ae.models.grid_training import stacking_groups, train_module_grid
from hgcal_ae.models.module_losses import mse
from hgcal_ae.models.module_training import (
    ModuleTrainingConfig,
    decode_shapes,
    train_module_autoencoder,
)

# With the softmax head a constant added to every logit changes nothing: the last layer's
# bias gets a gradient that is zero up to rounding, which Adam normalises into steps of
# +-lr in a direction set by that rounding.  It is compared through the outputs only.
SOFTMAX_INVARIANT = "decoder.5.bias"
TOL = 2e-4


def _modules(n, seed=0):
    """Toy modules: three neighbouring TCs of one rhombus row with exponential charges [MIP]."""
    rng = np.random.default_rng(seed)
    tc = np.zeros((n, 48))
    start = rng.integers(0, 46, n)
    for k in range(3):  # three adjacent TCs per module (a loop over 3 offsets, not over modules)
        tc[np.arange(n), start + k] = rng.exponential(10.0, n) / (k + 1)
    return tc


TRAIN, VAL = _modules(400, 1), _modules(100, 2)


@pytest.fixture(autouse=True)
def one_thread():
    """These models are tiny: one thread is faster, and keeps a busy machine's cores free."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _config(latent_dim, latent_bits, **kw):
    kw = {"batch_size": 100, "learning_rate": 3e-3, **kw}
    return ModuleTrainingConfig(latent_dim=latent_dim, latent_bits=latent_bits, **kw)


def _assert_same_model(grid, alone):
    for (key, a), b in zip(alone.state_dict().items(), grid.state_dict().values(), strict=True):
        if key != SOFTMAX_INVARIANT:
            torch.testing.assert_close(b, a, atol=TOL, rtol=0, msg=key)
    torch.testing.assert_close(
        decode_shapes(grid, VAL), decode_shapes(alone, VAL), atol=TOL, rtol=0
    )


class Killed(Exception):
    pass


def test_grid_members_equal_their_training_alone():
    # latent dims 2, 4 and 16 in one stack (padded), each with its own bits, seed and epochs
    configs = [
        _config(4, 3, epochs=2, seed=0),
        _config(16, 5, epochs=1, seed=1),
        _config(2, 9, epochs=2, seed=2),
        _config(16, 3, epochs=2, seed=0, decoder_head="sigmoid", batch_size=64),
    ]
    assert stacking_groups(configs) == [[0, 1, 2], [3]]
    grid = train_module_grid(configs, TRAIN, VAL)
    for config, (model, fit) in zip(configs, grid, strict=True):
        alone, alone_fit = train_module_autoencoder(config, TRAIN, VAL)
        _assert_same_model(model, alone)
        assert len(fit.history) == config.epochs and fit.resumed_from == 0
        for got, want in zip(fit.history, alone_fit.history, strict=True):
            assert got.epoch == want.epoch
            assert got.train_loss == pytest.approx(want.train_loss, rel=1e-4)
            assert got.val_loss == pytest.approx(want.val_loss, rel=1e-4)
        assert not model.training


def test_finetuning_stage_equals_the_single_loops():
    configs = [_config(4, 5, epochs=1, finetune_epochs=1), _config(8, 3, epochs=1, seed=3)]
    grid = train_module_grid(configs, TRAIN, VAL, finetune_loss=mse)
    for config, (model, fit) in zip(configs, grid, strict=True):
        alone, alone_fit = train_module_autoencoder(config, TRAIN, VAL, finetune_loss=mse)
        _assert_same_model(model, alone)
        assert [r.epoch for r in fit.history] == [r.epoch for r in alone_fit.history]


def test_stacked_adam_is_one_adam_per_member():
    gen = torch.Generator().manual_seed(0)
    stacked = torch.randn(3, 5, 4, generator=gen, requires_grad=True)
    alone = [stacked[k].detach().clone().requires_grad_(True) for k in range(3)]
    opt = torch.optim.Adam([stacked], lr=3e-3)
    opts = [torch.optim.Adam([p], lr=3e-3) for p in alone]
    for _ in range(4):
        grads = torch.randn(3, 5, 4, generator=gen)
        stacked.grad = grads.clone()
        opt.step()
        for k, (p, o) in enumerate(zip(alone, opts, strict=True)):
            p.grad = grads[k].clone()
            o.step()
    for k in range(3):
        assert torch.equal(stacked[k], alone[k])


def test_interrupted_grid_resumes_to_the_same_weights(tmp_path):
    configs = [_config(4, 3, epochs=3), _config(16, 5, epochs=2, seed=1)]
    ref = train_module_grid(configs, TRAIN, VAL)
    paths = [tmp_path / "a" / "checkpoint.pt", tmp_path / "b" / "checkpoint.pt"]

    def kill(k, record):
        if k == 1 and record.epoch == 2:
            raise Killed

    with pytest.raises(Killed):
        train_module_grid(configs, TRAIN, VAL, checkpoints=paths, on_epoch=kill)
    resumed = train_module_grid(configs, TRAIN, VAL, checkpoints=paths)
    assert [fit.resumed_from for _, fit in resumed] == [2, 2]
    for (model, fit), (ref_model, ref_fit) in zip(resumed, ref, strict=True):
        assert [r.val_loss for r in fit.history] == [r.val_loss for r in ref_fit.history]
        for key, value in ref_model.state_dict().items():
            assert torch.equal(model.state_dict()[key], value), key


def test_members_stopped_at_different_epochs_resume_each_from_its_own(tmp_path):
    # killed after member 0's second epoch: member 1 has saved only its first
    configs = [_config(4, 3, epochs=3), _config(16, 5, epochs=3, seed=1)]
    paths = [tmp_path / "a.pt", tmp_path / "b.pt"]

    def kill(k, record):
        if k == 0 and record.epoch == 2:
            raise Killed

    with pytest.raises(Killed):
        train_module_grid(configs, TRAIN, VAL, checkpoints=paths, on_epoch=kill)
    resumed = train_module_grid(configs, TRAIN, VAL, checkpoints=paths)
    assert [fit.resumed_from for _, fit in resumed] == [2, 1]
    reference = train_module_grid(configs, TRAIN, VAL)
    for (model, fit), (ref, ref_fit) in zip(resumed, reference, strict=True):
        assert [r.epoch for r in fit.history] == [1, 2, 3]
        assert [r.val_loss for r in fit.history] == pytest.approx(
            [r.val_loss for r in ref_fit.history], rel=1e-4
        )
        _assert_same_model(model, ref)


def test_a_grid_checkpoint_resumes_in_the_single_loop(tmp_path):
    config = _config(8, 5, epochs=2)
    path = tmp_path / "checkpoint.pt"

    def kill(k, record):
        raise Killed

    with pytest.raises(Killed):
        train_module_grid([config], TRAIN, VAL, checkpoints=[path], on_epoch=kill)
    model, fit = train_module_autoencoder(config, TRAIN, VAL, checkpoint=path)
    assert fit.resumed_from == 1
    _assert_same_model(model, train_module_autoencoder(config, TRAIN, VAL)[0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"configs": []}, "at least one"),
        ({"checkpoints": [None, None]}, "one checkpoint"),
        ({"configs": [_config(4, 3, finetune_epochs=1)]}, "finetune_loss"),
    ],
)
def test_bad_grids_are_refused(kwargs, message):
    args = {"configs": [_config(4, 3)], **kwargs}
    with pytest.raises(ConfigError, match=message):
        train_module_grid(args.pop("configs"), TRAIN, VAL, **args)


def test_one_checkpoint_for_two_members_is_refused(tmp_path):
    configs = [_config(4, 3), dataclasses.replace(_config(4, 3), seed=1)]
    with pytest.raises(ConfigError, match="its own"):
        train_module_grid(configs, TRAIN, VAL, checkpoints=[tmp_path / "c.pt"] * 2)
