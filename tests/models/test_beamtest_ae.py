"""Tests of the beam-test autoencoders (per layer, per shower)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from hgcal_ae.errors import ConfigError
from hgcal_ae.models.beamtest_ae import (
    SUM_BITS,
    BeamtestAEConfig,
    build_beamtest_ae,
    decode_cells,
    pack_inputs,
    train_beamtest_ae,
)


def _cells(n: int, seed: int = 0) -> np.ndarray:
    """Showers-like cells: a few hot cells per layer, energy growing with the event."""
    rng = np.random.default_rng(seed)
    cells = np.where(rng.random((n, 28, 109)) < 0.1, rng.exponential(5.0, (n, 28, 109)), 0.0)
    cells[:, 27] = 0.0  # an empty layer: nothing to send
    return cells * np.arange(1, n + 1)[:, None, None]


@pytest.mark.parametrize(
    ("family", "bad", "limit"),
    [
        ("per_layer", 0, 109),
        ("per_layer", 110, 109),
        ("per_shower", 0, 3052),
        ("per_shower", 3053, 3052),
    ],
)
def test_latent_dim_outside_the_input_is_one_line(family: str, bad: int, limit: int) -> None:
    with pytest.raises(
        ConfigError, match=rf"latent dim must be in 1\.\.{limit} .*got {bad}$"
    ) as info:
        BeamtestAEConfig(family=family, latent_dim=bad)
    assert "\n" not in str(info.value)


def test_bad_family_and_bits_are_refused() -> None:
    with pytest.raises(ConfigError, match="unknown autoencoder family 'per_module'"):
        BeamtestAEConfig(family="per_module")
    with pytest.raises(ConfigError, match=r"latent bits must be an integer in 1\.\.16, got 0"):
        BeamtestAEConfig(latent_bits=0)


@pytest.mark.parametrize("family", ["per_layer", "per_shower"])
def test_decoder_outputs_a_distribution_and_sums_travel_beside(family: str) -> None:
    config = BeamtestAEConfig(family=family, latent_dim=4, latent_bits=6)
    cells = _cells(3)
    packed, kept = pack_inputs(config, cells)
    model = build_beamtest_ae(config).eval()
    with torch.no_grad():
        log_q = model(packed)
        code = model.encode(packed[:, model.n_context :])
    assert log_q.shape == (len(packed), config.n_inputs)
    assert torch.allclose(log_q.exp().sum(dim=1), torch.ones(len(packed)), atol=1e-5)
    assert code.shape == (len(packed), 4)
    assert torch.all((code >= 0) & (code < 2)) and torch.all(code * 32 == torch.round(code * 32))
    decoded = decode_cells(model, cells)
    axes = (2,) if family == "per_layer" else (1, 2)
    np.testing.assert_allclose(decoded.sum(axis=axes), cells.sum(axis=axes), rtol=1e-5)
    assert not decoded[:, 27].any() if family == "per_layer" else decoded.shape == cells.shape
    assert kept.shape == ((3, 28) if family == "per_layer" else (3,))
    assert config.bits_per_code == 4 * 6 + SUM_BITS


def test_training_uses_the_shared_loop_and_resumes(tmp_path: Path) -> None:
    cells = _cells(6)
    checkpoint = tmp_path / "checkpoint.pt"
    one = BeamtestAEConfig(family="per_shower", latent_dim=2, epochs=1, batch_size=2)
    first = train_beamtest_ae(one, cells[:4], cells[4:], checkpoint=checkpoint)
    assert checkpoint.is_file() and first.resumed_from == 0 and len(first.history) == 1
    two = BeamtestAEConfig(family="per_shower", latent_dim=2, epochs=2, batch_size=2)
    resumed = train_beamtest_ae(two, cells[:4], cells[4:], checkpoint=checkpoint)
    fresh = train_beamtest_ae(two, cells[:4], cells[4:])
    assert resumed.resumed_from == 1 and len(resumed.history) == 2
    for a, b in zip(
        resumed.model.state_dict().values(), fresh.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)


def test_cells_of_the_wrong_shape_are_refused() -> None:
    with pytest.raises(
        ConfigError, match=r"cells must have shape \(n_events, 28, 109\), got \(2, 28, 48\)"
    ):
        pack_inputs(BeamtestAEConfig(), np.zeros((2, 28, 48)))
