"""Tests of the ECON-T image layouts (8x8 and 4x4x3) for numpy arrays and torch tensors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from hgcal_ae.errors import ConfigError
from hgcal_ae.trigger.images import (
    IMAGE_MASK_8X8,
    from_4x4x3,
    from_image_8x8,
    to_4x4x3,
    to_image_8x8,
)

Layout = Callable[[Any], Any]


def test_8x8_layout() -> None:
    image = to_image_8x8(np.arange(48))
    assert image.shape == (8, 8)
    assert image[0, 0] == 0 and image[0, 4] == 16 and image[4, 0] == 32
    assert image[3, 3] == 15 and image[3, 7] == 31 and image[7, 3] == 47
    # rows 0-3 hold TC 0-31 (by rhombus), rows 4-7 TC 32-47 on the left, 0 on the right
    np.testing.assert_array_equal(image[:4, :4], np.arange(16).reshape(4, 4))
    np.testing.assert_array_equal(image[:4, 4:], np.arange(16, 32).reshape(4, 4))
    np.testing.assert_array_equal(image[4:, :4], np.arange(32, 48).reshape(4, 4))
    np.testing.assert_array_equal(image[4:, 4:], 0)
    expected_mask = np.ones((8, 8), dtype=bool)
    expected_mask[4:, 4:] = False
    np.testing.assert_array_equal(IMAGE_MASK_8X8, expected_mask)
    assert IMAGE_MASK_8X8.sum() == 48


def test_4x4x3_layout() -> None:
    image = to_4x4x3(np.arange(48))
    assert image.shape == (4, 4, 3)
    # Ecoder arrange443 = [0, 16, 32, 1, 17, 33, ...]
    np.testing.assert_array_equal(image.ravel()[:6], [0, 16, 32, 1, 17, 33])
    for channel in range(3):
        np.testing.assert_array_equal(
            image[..., channel], 16 * channel + np.arange(16).reshape(4, 4)
        )


@pytest.mark.parametrize(
    ("forward", "backward", "shape"),
    [(to_image_8x8, from_image_8x8, (8, 8)), (to_4x4x3, from_4x4x3, (4, 4, 3))],
)
def test_round_trip_numpy(
    forward: Layout, backward: Layout, shape: tuple[int, ...], rng: np.random.Generator
) -> None:
    tc = rng.exponential(1.0, size=(2, 3, 48)).astype(np.float32)
    image = forward(tc)
    assert image.shape == (2, 3, *shape)
    assert image.dtype == np.float32
    np.testing.assert_array_equal(backward(image), tc)
    np.testing.assert_array_equal(backward(forward(tc[0, 0])), tc[0, 0])
    if shape == (8, 8):
        np.testing.assert_array_equal(image[..., 4:, 4:], 0)
        np.testing.assert_allclose(image.sum(axis=(-2, -1)), tc.sum(axis=-1), rtol=1e-6)


@pytest.mark.parametrize(
    ("forward", "backward", "shape"),
    [(to_image_8x8, from_image_8x8, (8, 8)), (to_4x4x3, from_4x4x3, (4, 4, 3))],
)
def test_round_trip_torch(
    forward: Layout, backward: Layout, shape: tuple[int, ...], rng: np.random.Generator
) -> None:
    tc = torch.tensor(rng.exponential(1.0, size=(5, 48)), requires_grad=True)
    image = forward(tc)
    assert isinstance(image, torch.Tensor)
    assert image.shape == (5, *shape)
    assert image.dtype == torch.float64
    back = backward(image)
    assert isinstance(back, torch.Tensor)
    assert torch.equal(back, tc)
    np.testing.assert_array_equal(image.detach().numpy(), forward(tc.detach().numpy()))
    image.sum().backward()  # differentiable: every TC appears once
    assert torch.equal(tc.grad, torch.ones_like(tc))


@pytest.mark.parametrize(
    ("function", "bad_shape", "expected"),
    [
        (to_image_8x8, (3, 47), r"\(\.\.\., 48\), got \(3, 47\)"),
        (to_4x4x3, (48, 1), r"\(\.\.\., 48\), got \(48, 1\)"),
        (from_image_8x8, (2, 8, 7), r"\(\.\.\., 8, 8\), got \(2, 8, 7\)"),
        (from_4x4x3, (4, 4), r"\(\.\.\., 4, 4, 3\), got \(4, 4\)"),
    ],
)
def test_bad_shapes(function: Layout, bad_shape: tuple[int, ...], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        function(np.zeros(bad_shape))
    with pytest.raises(ConfigError, match=expected):
        function(torch.zeros(bad_shape))
