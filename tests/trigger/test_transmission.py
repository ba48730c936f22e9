"""Tests of the ECON-T chain around the AE: encoder inputs, transmitted module sum, the AE frame."""

from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.errors import ConfigError, DataError
from hgcal_ae.trigger.formats import SUM_5E4M
from hgcal_ae.trigger.images import from_image_8x8
from hgcal_ae.trigger.transmission import encoder_inputs, to_module_sum, transmit_autoencoder

LSB = 2 / 45


def _modules(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.exponential(2.0, (n, 48)) * (rng.random((n, 48)) < 0.3)


def test_encoder_inputs_are_8_bit_sumlog2_images(rng: np.random.Generator) -> None:
    tc = _modules(rng, 50)
    tc[0] = 0.0  # an empty module: scale 0, image 0
    images, scale = encoder_inputs(tc)
    assert images.shape == (50, 8, 8) and images.dtype == np.float32
    assert scale[0] == 0 and not images[0].any()
    steps = images * 256
    np.testing.assert_array_equal(steps, np.round(steps))  # multiples of 1/256
    s = tc[1:].sum(axis=1)
    np.testing.assert_array_equal(scale[1:], 2.0 ** np.floor(np.log2(s)))
    np.testing.assert_allclose(from_image_8x8(images[1:]), tc[1:] / scale[1:, None], atol=1 / 512)


def test_nan_modules_are_refused_not_treated_as_empty(rng: np.random.Generator) -> None:
    tc = _modules(rng, 10)
    tc[[2, 5], 3] = np.nan
    with pytest.raises(DataError, match="2 of 10 modules hold NaN or infinite charges"):
        encoder_inputs(tc)


def test_decoded_shapes_get_the_transmitted_sum(rng: np.random.Generator) -> None:
    tc = _modules(rng, 40)
    shape = rng.random((40, 48))
    out = to_module_sum(shape, tc, lsb=LSB)
    np.testing.assert_allclose(out.sum(axis=1), SUM_5E4M.quantise(tc.sum(axis=1), lsb=LSB))
    suppressed = to_module_sum(shape, tc, lsb=LSB, zero_suppress=0.5)
    kept = suppressed > 0
    assert kept.sum(axis=1).min() >= 1  # the largest TC is always kept
    below = (kept & (suppressed < 0.5)).any(axis=1)
    assert np.all(kept[below].sum(axis=1) == 1)  # a TC below the threshold only as the last one
    assert (kept.sum(axis=1) < (out > 0).sum(axis=1)).any()  # something was suppressed
    np.testing.assert_allclose(suppressed.sum(axis=1), out.sum(axis=1))  # no energy leaves


def test_the_ae_frame_as_an_algorithm(rng: np.random.Generator) -> None:
    tc = _modules(rng, 5)
    out = transmit_autoencoder(rng.random((5, 48)), tc, 2, 16, 3, lsb=LSB)
    assert out.name == "autoencoder" and out.label == "AE 16×3 bits"
    assert out.setting == "2 e-links, latent 16×3 bits"
    assert np.all(out.bits == 5 + 9 + 48) and out.fits.all()
    with pytest.raises(ConfigError, match="does not fit 2 e-links"):
        transmit_autoencoder(rng.random((5, 48)), tc, 2, 16, 5, lsb=LSB)
