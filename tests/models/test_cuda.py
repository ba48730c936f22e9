"""The CUDA path: training on ``cuda`` gives the CPU's results within tolerance.

These run only where a CUDA device is present (``pytest -m gpu``); elsewhere they are skipped.
``validation/check_cuda.py`` runs the same comparison at a larger scale and reports the numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hgcal_ae.models.device import cuda_device_count
from hgcal_ae.models.module_training import (
    ModuleTrainingConfig,
    decode_modules,
    train_module_autoencoder,
)
from hgcal_ae.models.training import TrainingConfig, train_autoencoder

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(cuda_device_count() == 0, reason="needs a CUDA device"),
]


def _modules(n, seed):
    rng = np.random.default_rng(seed)
    tc = np.zeros((n, 48))
    start = rng.integers(0, 46, n)
    for k in range(3):
        tc[np.arange(n), start + k] = rng.exponential(10.0, n) / (k + 1)
    return tc


def test_mnist_training_on_cuda_matches_cpu(mnist_cache, tmp_path):
    from hgcal_ae.datasets.mnist import load_cached

    splits = load_cached("mnist", mnist_cache.parent)
    train = torch.from_numpy(splits.train_x[:4000] / np.float32(255)).unsqueeze(1)
    val = torch.from_numpy(splits.val_x[:1000] / np.float32(255)).unsqueeze(1)
    config = TrainingConfig(arch="conv", latent_dim=16, epochs=2, seed=3)
    cpu = train_autoencoder(config, train, val, device="cpu")
    gpu = train_autoencoder(config, train, val, device="cuda", checkpoint=tmp_path / "gpu.pt")
    assert next(gpu.model.parameters()).device.type == "cuda"
    for a, b in zip(cpu.history, gpu.history, strict=True):
        assert b.val_loss == pytest.approx(a.val_loss, rel=0.02)
    # the CUDA checkpoint resumes on the CPU
    more = TrainingConfig(**{**config.__dict__, "epochs": 3})
    resumed = train_autoencoder(more, train, val, device="cpu", checkpoint=tmp_path / "gpu.pt")
    assert resumed.resumed_from == 2 and len(resumed.history) == 3


def test_module_autoencoder_on_cuda_matches_cpu():
    config = ModuleTrainingConfig(epochs=3, batch_size=64, learning_rate=3e-3, seed=2)
    train, val = _modules(3000, 1), _modules(500, 2)
    cpu_model, cpu_fit = train_module_autoencoder(config, train, val, device="cpu")
    gpu_model, gpu_fit = train_module_autoencoder(config, train, val, device="cuda")
    for a, b in zip(cpu_fit.history, gpu_fit.history, strict=True):
        assert b.val_loss == pytest.approx(a.val_loss, rel=0.02)
    lsb = 2 / 45
    on_gpu = decode_modules(gpu_model, val, lsb=lsb)  # decoded where the model lives
    on_cpu = decode_modules(gpu_model.to("cpu"), val, lsb=lsb)
    np.testing.assert_allclose(on_gpu, on_cpu, rtol=1e-3, atol=1e-3)
    assert on_gpu.sum(axis=1) == pytest.approx(decode_modules(cpu_model, val, lsb=lsb).sum(axis=1))


_FORK_AFTER_RESOLVE = """
import multiprocessing, torch
from hgcal_ae.models.device import resolve_device

def train():
    model = torch.nn.Linear(4, 2).to("cuda")
    model(torch.ones(3, 4, device="cuda")).sum().backward()
    torch.cuda.synchronize()

assert resolve_device("cuda").type == "cuda" and resolve_device("auto").type == "cuda"
child = multiprocessing.get_context("fork").Process(target=train)
child.start()
child.join(120)
raise SystemExit(child.exitcode)
"""


def test_resolving_the_device_leaves_forked_workers_able_to_use_cuda():
    # luigi runs tasks in forked processes when --workers > 1; the parent resolves --device
    # first, which must not initialise CUDA (a forked child could then never use it).  A fresh
    # interpreter, since this test process has used CUDA already.
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _FORK_AFTER_RESOLVE], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
