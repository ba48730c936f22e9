"""The study evaluates a conditional AE with the modules' conditions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hgcal_ae.errors import ConfigError
from hgcal_ae.models.module_ae import CONDITIONS, ModuleAEConfig, ModuleAutoencoder
from hgcal_ae.study.evaluate import algorithm_outputs


def test_algorithm_outputs_decode_a_conditional_ae_with_its_conditions():
    rng = np.random.default_rng(0)
    tc = rng.exponential(1.0, (50, 48)) * (rng.random((50, 48)) < 0.3)
    conditions = {"abs_eta": rng.uniform(1.5, 3.0, 50), "layer": rng.integers(1, 29, 50),
                  "wafer_type": np.full(50, 2), "log_sum": np.log(tc.sum(axis=1) * 35 + 1)}  # fmt: skip
    torch.manual_seed(0)
    models = {(16, 3): ModuleAutoencoder(ModuleAEConfig(16, 3, conditions=tuple(CONDITIONS))),
              (8, 3): ModuleAutoencoder(ModuleAEConfig(8, 3))}  # fmt: skip
    outputs = algorithm_outputs(tc, 2, models=models, thresholds=(1.35,), lsb=2 / 45,
                                conditions=conditions)  # fmt: skip
    aes = {(e["latent_dim"], e["latent_bits"]): o for o, e in outputs if e}
    assert set(aes) == {(16, 3), (8, 3)} and aes[(16, 3)].reconstructed.shape == (50, 48)
    with pytest.raises(ConfigError, match="conditional module AE"):
        algorithm_outputs(tc, 2, models=models, thresholds=(1.35,), lsb=2 / 45)
