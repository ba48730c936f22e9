"""The exact-EMD loss: value as the metric, gradient as POT's autograd and finite differences."""

from __future__ import annotations

import numpy as np
import ot
import pytest
import torch

from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.emd import default_tc_coords, emd
from hgcal_ae.metrics.emd_loss import emd_with_potentials, exact_emd, exact_emd_image_loss
from hgcal_ae.trigger.images import to_image_8x8


def _modules(seed: int, n: int, hit: float) -> tuple[np.ndarray, torch.Tensor]:
    """Sparse targets (a fraction ``hit`` of TCs, one always) and decoder logits."""
    rng = np.random.default_rng(seed)
    a = rng.exponential(1.0, (n, 48)) * (rng.random((n, 48)) < hit)
    a[np.arange(n), rng.integers(0, 48, n)] += 0.5
    logits = torch.tensor(rng.normal(size=(n, 48)), dtype=torch.float64, requires_grad=True)
    return a, logits


@pytest.mark.parametrize("hit", [0.05, 0.3, 1.0])
def test_value_and_gradient_equal_pots(hit: float) -> None:
    a, logits = _modules(1, 25, hit)
    value = exact_emd(torch.from_numpy(a), torch.softmax(logits, dim=1))
    value.sum().backward()
    ours = logits.grad.clone()
    logits.grad = None
    xy = default_tc_coords()
    cost = torch.from_numpy(ot.dist(xy, xy, metric="euclidean"))
    p = torch.from_numpy(a / a.sum(axis=1, keepdims=True))
    q = torch.softmax(logits, dim=1)
    pot = torch.stack([ot.emd2(p[i], q[i], cost) for i in range(len(a))])
    pot.sum().backward()
    np.testing.assert_allclose(value.detach().numpy(), pot.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.numpy(), logits.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(emd(a, q.detach().numpy()), value.detach().numpy(), atol=1e-12)


def test_gradient_equals_finite_differences() -> None:
    a, logits = _modules(2, 6, 0.2)
    target = torch.from_numpy(a)
    exact_emd(target, torch.softmax(logits, dim=1)).sum().backward()
    step = 1e-7
    with torch.no_grad():
        base = logits.detach().clone()
        numeric = torch.zeros_like(base)
        for k in range(48):  # one column of all modules at a time: rows are independent
            up, down = base.clone(), base.clone()
            up[:, k] += step
            down[:, k] -= step
            diff = exact_emd(target, torch.softmax(up, 1)) - exact_emd(
                target, torch.softmax(down, 1)
            )
            numeric[:, k] = diff / (2 * step)
    np.testing.assert_allclose(logits.grad.numpy(), numeric.numpy(), atol=1e-6)


def test_potentials_of_special_rows() -> None:
    """One source, one sink, identical rows and empty rows (the solver's shortcuts)."""
    a = np.zeros((4, 48))
    b = np.zeros((4, 48))
    a[0, 0], b[0, [1, 2]] = 1.0, 0.5  # one source: g = distance from TC 0, centred
    a[1, [1, 2]], b[1, 0] = 0.5, 1.0  # one sink
    a[2, :3] = b[2, :3] = 1.0  # nothing to move
    b[3, 5] = 1.0  # empty input: sentinel, no gradient
    value, g = emd_with_potentials(a, b)
    d = np.linalg.norm(default_tc_coords()[:, None] - default_tc_coords()[None], axis=-1)
    assert value[0] == pytest.approx(0.5 * (d[0, 1] + d[0, 2]))
    assert g[0, 1] - g[0, 2] == pytest.approx(d[0, 1] - d[0, 2])
    assert value[2] == 0 and not g[2].any() and value[3] == -1 and not g[3].any()
    np.testing.assert_allclose(g.sum(axis=1), 0, atol=1e-12)


def test_image_loss_is_the_mean_emd() -> None:
    a, logits = _modules(3, 8, 0.3)
    q = torch.softmax(logits, dim=1).detach()
    y = to_image_8x8(torch.from_numpy(a))[:, None]
    y_hat = to_image_8x8(q)[:, None]
    loss = exact_emd_image_loss(y, y_hat)
    assert float(loss) == pytest.approx(emd(a, q.numpy()).mean(), abs=1e-12)


def test_bad_shapes_name_them() -> None:
    with pytest.raises(ConfigError, match=r"\(N, 48\).*\(3, 47\)"):
        exact_emd(torch.ones(3, 47), torch.ones(3, 47))


def test_finetune_with_exact_emd_lowers_the_emd(tmp_path) -> None:
    """The training hook: telescope epochs, then exact-EMD epochs from the same model."""
    from hgcal_ae.models.module_training import (
        ModuleTrainingConfig,
        decode_shapes,
        train_module_autoencoder,
    )

    rng = np.random.default_rng(4)
    tc = rng.exponential(2.0, (300, 48)) * (rng.random((300, 48)) < 0.15)
    tc[np.arange(300), rng.integers(0, 48, 300)] += 3.0
    base = ModuleTrainingConfig(latent_dim=4, latent_bits=3, epochs=1, batch_size=100,
                                learning_rate=3e-3, finetune_epochs=0)  # fmt: skip
    with pytest.raises(ConfigError, match="finetune_loss"):
        train_module_autoencoder(base.__class__(**{**base.__dict__, "finetune_epochs": 1}), tc, tc)
    first, _ = train_module_autoencoder(base, tc[:200], tc[200:])
    tuned_config = base.__class__(**{**base.__dict__, "finetune_epochs": 2,
                                     "finetune_learning_rate": 3e-3})  # fmt: skip
    checkpoint = tmp_path / "checkpoint.pt"
    tuned, result = train_module_autoencoder(
        tuned_config, tc[:200], tc[200:], finetune_loss=exact_emd_image_loss, checkpoint=checkpoint
    )
    assert [r.epoch for r in result.history] == [1, 2, 3]
    assert (tmp_path / "finetune_checkpoint.pt").is_file()
    before = emd(tc[200:], decode_shapes(first, tc[200:])).mean()
    after = emd(tc[200:], decode_shapes(tuned, tc[200:])).mean()
    assert after < before
