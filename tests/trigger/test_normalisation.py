"""Tests of the module normalisations (sumlog2, sum, max) and of the 8-bit input quantisation."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from hgcal_ae.errors import ConfigError
from hgcal_ae.trigger.normalisation import (
    denormalise,
    normalise_by_max,
    normalise_by_sum,
    normalise_sumlog2,
    quantise_inputs,
)

Normaliser = Callable[[Any], tuple[Any, Any]]


def _modules(rng: np.random.Generator) -> np.ndarray:
    """(4, 50, 48) TC charges over many decades, with some sparse modules and exact powers of two."""
    tc = rng.exponential(1.0, size=(4, 50, 48)) * 10.0 ** rng.uniform(-3, 4, size=(4, 50, 1))
    tc[0, :10] = 0.0
    tc[0, :10, 5] = 2.0 ** np.arange(-5, 5)  # sums exactly a power of two
    tc[1, :5, :47] = 0.0  # one TC only
    return tc


def test_sumlog2(rng: np.random.Generator) -> None:
    tc = _modules(rng)
    normalised, scale = normalise_sumlog2(tc)
    assert normalised.shape == tc.shape and scale.shape == tc.shape[:-1]
    total = normalised.sum(axis=-1)
    assert total.min() >= 1.0 and total.max() < 2.0
    assert normalised.max() < 2.0
    exponent = np.log2(scale)
    np.testing.assert_array_equal(exponent, np.round(exponent))  # a power of two
    assert np.all(scale <= tc.sum(axis=-1)) and np.all(tc.sum(axis=-1) < 2 * scale)
    np.testing.assert_array_equal(scale[0, :10], 2.0 ** np.arange(-5, 5))
    np.testing.assert_allclose(denormalise(normalised, scale), tc, rtol=1e-15)


def test_sum_and_max(rng: np.random.Generator) -> None:
    tc = _modules(rng)
    by_sum, total = normalise_by_sum(tc)
    np.testing.assert_allclose(by_sum.sum(axis=-1), 1.0)
    np.testing.assert_allclose(total, tc.sum(axis=-1))
    by_max, largest = normalise_by_max(tc)
    np.testing.assert_array_equal(by_max.max(axis=-1), 1.0)
    np.testing.assert_array_equal(largest, tc.max(axis=-1))
    np.testing.assert_allclose(denormalise(by_max, largest), tc, rtol=1e-15)


@pytest.mark.parametrize("normalise", [normalise_sumlog2, normalise_by_sum, normalise_by_max])
def test_zero_module_without_warnings(normalise: Normaliser) -> None:
    tc = np.zeros((3, 48))
    tc[1, 7] = 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        normalised, scale = normalise(tc)
        restored = denormalise(normalised, scale)
        torch_normalised, torch_scale = normalise(torch.from_numpy(tc))
    np.testing.assert_array_equal(normalised[[0, 2]], 0.0)
    np.testing.assert_array_equal(scale[[0, 2]], 0.0)
    assert scale[1] > 0
    np.testing.assert_array_equal(restored, tc)
    np.testing.assert_array_equal(torch_normalised.numpy(), normalised)
    np.testing.assert_array_equal(torch_scale.numpy(), scale)


@pytest.mark.parametrize("normalise", [normalise_sumlog2, normalise_by_sum, normalise_by_max])
def test_torch_matches_numpy(normalise: Normaliser, rng: np.random.Generator) -> None:
    tc = _modules(rng)
    normalised, scale = normalise(tc)
    torch_normalised, torch_scale = normalise(torch.from_numpy(tc))
    assert isinstance(torch_normalised, torch.Tensor) and torch_normalised.dtype == torch.float64
    # torch sums in another order: equal up to rounding (sumlog2 and max scales are exact)
    np.testing.assert_allclose(torch_normalised.numpy(), normalised, rtol=1e-14)
    np.testing.assert_allclose(torch_scale.numpy(), scale, rtol=1e-14)
    restored = denormalise(torch_normalised, torch_scale)
    np.testing.assert_allclose(restored.numpy(), tc, rtol=1e-15)
    # float32 and integer inputs
    assert normalise(torch.from_numpy(tc).float())[0].dtype == torch.float32
    assert normalise(np.ones((2, 48), dtype=int))[0].dtype == np.float64


def test_quantise_inputs(rng: np.random.Generator) -> None:
    normalised, _ = normalise_sumlog2(_modules(rng))
    quantised = quantise_inputs(normalised)
    steps = quantised * 256
    np.testing.assert_array_equal(steps, np.round(steps))  # multiples of 1/256
    assert np.abs(quantised - normalised).max() <= 0.5 / 256  # within half a step
    assert quantised.min() >= 0 and quantised.max() <= 2.0
    # halves go away from zero as in std::round; 2 is reachable from just below 2
    np.testing.assert_array_equal(
        quantise_inputs(np.array([0.5, 1.5, 2.5, 511.6, -0.5]) / 256),
        np.array([1, 2, 3, 512, -1]) / 256,
    )
    np.testing.assert_array_equal(quantise_inputs(np.array([0.3]), bits=2), [0.25])
    torch_quantised = quantise_inputs(torch.from_numpy(normalised))
    np.testing.assert_array_equal(torch_quantised.numpy(), quantised)


@pytest.mark.parametrize("bits", [0, -3, 2.5, True])
def test_quantise_bad_bits(bits: Any) -> None:
    with pytest.raises(ConfigError, match="positive integer"):
        quantise_inputs(np.zeros(48), bits=bits)


def test_bad_shapes() -> None:
    for normalise in (normalise_sumlog2, normalise_by_sum, normalise_by_max):
        with pytest.raises(ConfigError, match=r"\(\.\.\., 48\), got \(2, 64\)"):
            normalise(np.zeros((2, 64)))
        with pytest.raises(ConfigError, match=r"\(\.\.\., 48\), got \(\)"):
            normalise(torch.tensor(1.0))
    with pytest.raises(ConfigError, match=r"scale must have shape \(3,\).*got \(3, 1\)"):
        denormalise(np.zeros((3, 48)), np.zeros((3, 1)))
