"""A small module AE with 6-bit weights, saved as a study saves it, shared by the tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from hgcal_ae.export.modules import verification_images
from hgcal_ae.models.module_ae import ModuleAutoencoder
from hgcal_ae.models.module_training import ModuleTrainingConfig, save_module_ae

# quantisation-aware 6-bit weights, 5-bit latent: the codes the exported forms must reproduce
TINY = ModuleTrainingConfig(latent_dim=4, latent_bits=5, filters=4, quantised_weights=True)


def _tiny_model(seed: int = 0) -> ModuleAutoencoder:
    """A module AE whose encoder weights are drawn over the whole 6-bit range [-1, 1): on the
    test modules its latent codes cover all 32 values, saturation at both ends included
    (a two-epoch training costs seconds and leaves latents dead)."""
    model = ModuleAutoencoder(TINY.ae_config())
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.conv.weight.copy_(torch.rand(model.conv.weight.shape, generator=g) * 2 - 1)
        model.conv.bias.zero_()
        model.dense.weight.copy_(torch.rand(model.dense.weight.shape, generator=g) * 2 - 1)
        model.dense.bias.fill_(0.75)
    return model.eval()


@pytest.fixture(scope="session")
def tiny_ae(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``model.pt`` of ``tiny_model()``, written by ``save_module_ae``."""
    path = tmp_path_factory.mktemp("tiny-ae") / "model.pt"
    save_module_ae(path, _tiny_model(), TINY, [])
    return path


@pytest.fixture(scope="session")
def tiny_model() -> Callable[..., ModuleAutoencoder]:
    """``tiny_model(seed=0)``: a module AE with 6-bit weights over their whole range."""
    return _tiny_model


@pytest.fixture(scope="session")
def images():
    """Encoder inputs of 3000 generated modules, on the ECON-T 8-bit grid."""
    return verification_images(3000, seed=7)[0]
