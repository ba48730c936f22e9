from __future__ import annotations

import pytest
import torch

from hgcal_ae.errors import ConfigError
from hgcal_ae.models.autoencoders import (
    ConvAutoencoder,
    DenseAutoencoder,
    build_autoencoder,
    check_latent_dim,
)


@pytest.mark.parametrize("arch", ["dense", "conv"])
@pytest.mark.parametrize("latent_dim", [1, 2, 28, 784])
def test_shapes(arch, latent_dim):
    model = build_autoencoder(arch, latent_dim)
    x = torch.rand(5, 1, 28, 28)
    z = model.encode(x)
    assert z.shape == (5, latent_dim)
    assert model.decode(z).shape == (5, 1, 28, 28)
    assert model(x).shape == (5, 1, 28, 28)


def test_classes():
    assert isinstance(build_autoencoder("dense", 3), DenseAutoencoder)
    assert isinstance(build_autoencoder("conv", 3), ConvAutoencoder)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, r"latent dim must be in 1\.\.784 .* got 0"),
        (-3, r"got -3"),
        (785, r"got 785"),
        ("abc", r"must be an integer in 1\.\.784, got 'abc'"),
        ("2.5", r"got '2\.5'"),
        (True, r"got True"),
    ],
)
def test_bad_latent_dims(value, message):
    with pytest.raises(ConfigError, match=message):
        check_latent_dim(value)
    with pytest.raises(ConfigError):
        build_autoencoder("dense", value)


def test_latent_dim_from_text():
    assert check_latent_dim("28") == 28


def test_unknown_arch():
    with pytest.raises(ConfigError, match=r"unknown arch 'vae'; expected one of dense, conv"):
        build_autoencoder("vae", 4)
