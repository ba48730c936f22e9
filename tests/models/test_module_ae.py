from __future__ import annotations

import pytest
import torch

from hgcal_ae.errors import ConfigError
from hgcal_ae.models.module_ae import ModuleAEConfig, ModuleAutoencoder, image_mask
from hgcal_ae.models.module_losses import module_loss
from hgcal_ae.models.quantisation import quantise_unsigned, quantise_weights


def _images(n=64, seed=0):
    """Toy module images: a Gaussian blob of charge somewhere in the 48 trigger cells, sum ~1."""
    g = torch.Generator().manual_seed(seed)
    centre = torch.rand(n, 2, generator=g) * 8
    yy, xx = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
    d2 = (yy - centre[:, 0, None, None]) ** 2 + (xx - centre[:, 1, None, None]) ** 2
    img = torch.exp(-d2 / 1.5)[:, None] * image_mask()
    return img / img.sum(dim=(-1, -2, -3), keepdim=True).clamp_min(1e-6)


def test_reference_architecture_has_the_published_parameter_counts():
    # econt.md §3: encoder 2,144 (80 + 2,064), decoder 2,833, total 4,977
    assert ModuleAutoencoder().parameter_counts() == {
        "encoder": 2144,
        "decoder": 2833,
        "total": 4977,
    }


@pytest.mark.parametrize(("latent_dim", "bits"), [(1, 1), (16, 9), (48, 16), (8, 3)])
def test_latent_is_quantised_to_its_bits(latent_dim, bits):
    model = ModuleAutoencoder(ModuleAEConfig(latent_dim=latent_dim, latent_bits=bits))
    code = model.encode(_images())
    assert code.shape == (64, latent_dim)
    step = 2.0 ** (1 - bits)
    assert torch.all(code >= 0) and torch.all(code <= 2 - step)
    torch.testing.assert_close(code / step, torch.round(code / step))
    assert len(torch.unique(code)) <= 2**bits
    out = model(_images())
    assert out.shape == (64, 1, 8, 8) and torch.all(out[..., 4:, 4:] == 0)


def test_straight_through_gradient_reaches_the_encoder():
    model = ModuleAutoencoder()
    loss = module_loss("telescope")(_images(), model(_images()))
    loss.backward()
    assert model.conv.weight.grad is not None and model.conv.weight.grad.abs().sum() > 0


def test_quantised_weights_sit_on_the_six_bit_grid():
    model = ModuleAutoencoder(ModuleAEConfig(quantised_weights=True))
    w = quantise_weights(model.dense.weight, 6)
    torch.testing.assert_close(w * 32, torch.round(w * 32))
    assert w.min() >= -1 and w.max() <= 1 - 1 / 32
    out = model(_images())
    assert torch.isfinite(out).all()


def test_quantise_unsigned_nine_bits():
    x = torch.tensor([-0.3, 0.0, 0.0021, 0.5, 1.99, 5.0])
    q = quantise_unsigned(x, 9)
    torch.testing.assert_close(q, torch.tensor([0.0, 0.0, 0.00390625, 0.5, 1.98828125, 1.99609375]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"latent_dim": 0}, r"latent_dim must be an integer in 1\.\.48"),
        ({"latent_dim": 49}, r"got 49"),
        ({"latent_bits": 0}, r"latent_bits must be an integer in 1\.\.16"),
        ({"latent_bits": 17}, r"got 17"),
        ({"filters": 0}, r"filters must be"),
    ],
)
def test_bad_configuration(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ModuleAEConfig(**kwargs)


def test_losses():
    y = _images(8)
    for name in ("mse", "weighted_mse", "telescope"):  # no parameters involved: no grad
        fn = module_loss(name)
        assert float(fn(y, y)) == 0.0
        assert float(fn(y, y * 0.5)) > 0
    # the quarter without trigger cells does not count
    garbage = y.clone()
    garbage[..., 4:, 4:] = 7.0
    assert float(module_loss("telescope")(y, garbage)) == 0.0
    # weighted MSE by hand on one trigger cell
    a, b = torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8)
    a[0, 0, 0, 0], b[0, 0, 0, 0] = 0.8, 0.2
    assert float(module_loss("weighted_mse")(a, b)) == pytest.approx(0.36 * 0.8 / 48)
    with pytest.raises(
        ConfigError, match="unknown loss 'l1'; expected one of mse, weighted_mse, telescope"
    ):
        module_loss("l1")


def test_training_lowers_the_telescope_loss():
    torch.manual_seed(0)
    model = ModuleAutoencoder()
    data = _images(512, seed=1)
    loss_fn = module_loss("telescope")
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    with torch.no_grad():
        first = float(loss_fn(data, model(data)))
    for _ in range(150):
        opt.zero_grad()
        loss = loss_fn(data, model(data))
        loss.backward()
        opt.step()
    with torch.no_grad():
        assert float(loss_fn(data, model(data))) < 0.5 * first


def test_softmax_head_keeps_the_input_sum_and_the_empty_quarter():
    torch.manual_seed(0)
    model = ModuleAutoencoder(ModuleAEConfig(latent_dim=8, latent_bits=5))
    assert model.config.decoder_head == "softmax"
    images = torch.rand(6, 1, 8, 8) * image_mask()
    images[0] = 0.0  # an empty module decodes to nothing
    with torch.no_grad():
        out = model(images)
    torch.testing.assert_close(out.sum(dim=(1, 2, 3)), images.sum(dim=(1, 2, 3)))
    assert float(out[..., 4:, 4:].abs().sum()) == 0.0
    assert bool((out[1:, :, :4, :] > 0).all())  # every trigger cell gets a share


def test_sigmoid_head_is_per_cell_in_unit_range():
    torch.manual_seed(0)
    model = ModuleAutoencoder(ModuleAEConfig(decoder_head="sigmoid"))
    with torch.no_grad():
        out = model(torch.rand(4, 1, 8, 8) * image_mask())
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert float(out[..., 4:, 4:].abs().sum()) == 0.0


def test_unknown_decoder_head_is_refused():
    with pytest.raises(
        ConfigError, match="decoder_head must be one of softmax, sigmoid, got 'relu'"
    ):
        ModuleAEConfig(decoder_head="relu")


def test_telescope_has_ecoders_36_supercells():
    import numpy as np

    from hgcal_ae.detector.trigger_cells import trigger_cell_map
    from hgcal_ae.models.module_losses import _supercells

    member, weights = _supercells()
    assert member.shape == (36, 48) and (member.sum(axis=1) == 4).all()
    # every TC contributes equally: the weights of its super-cells, split among members, add up
    counts = member.sum(axis=0)
    assert (counts >= 1).all()
    np.testing.assert_allclose(weights, 0.25 * (member / counts).sum(axis=1))
    # the 9 across block boundaries: two TCs of each of two rhombi, centres within 2 TC pitches
    tcmap = trigger_cell_map("ld8")
    xy = np.column_stack([tcmap.tc_x_cm, tcmap.tc_y_cm])
    for row in member[27:]:
        tcs = np.flatnonzero(row)
        assert sorted(np.bincount(tcs // 16, minlength=3)) == [0, 2, 2]
        spread = np.linalg.norm(xy[tcs][:, None] - xy[tcs][None], axis=-1).max()
        assert spread < 2 * 2.42
    # three-fold symmetric: rotating the rhombi (TC id + 16 mod 48) maps the 9 onto themselves
    across = {tuple(sorted(np.flatnonzero(r))) for r in member[27:]}
    assert {tuple(sorted((t + 16) % 48 for t in g)) for g in across} == across


def test_telescope_sees_charge_moved_across_a_block_boundary():
    from hgcal_ae.models.module_losses import _supercells
    from hgcal_ae.trigger.images import to_image_8x8

    member, _ = _supercells()
    tcs = [int(t) for t in member[27].nonzero()[0]]  # one cross-boundary super-cell
    a, b = torch.zeros(1, 48), torch.zeros(1, 48)
    a[0, tcs[0]], b[0, tcs[-1]] = 1.0, 1.0  # the charge moves to the facing rhombus's TC
    ya, yb = to_image_8x8(a)[:, None], to_image_8x8(b)[:, None]
    far = torch.zeros(1, 48)
    far[0, (tcs[0] + 8) % 48] = 1.0  # same charge moved far away
    yf = to_image_8x8(far)[:, None]
    loss = module_loss("telescope")
    assert float(loss(ya, yb)) < float(loss(ya, yf))
