"""The MNIST example end to end, on real digits (2,000 images, 3 epochs)."""

from __future__ import annotations

import json
from pathlib import Path

import imageio.v3 as iio
import luigi
import numpy as np
import pytest

from hgcal_ae.workflows import mnist as wf
from hgcal_ae.workflows.runner import run_tasks

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def example(mnist_cache, tmp_path_factory):
    out = tmp_path_factory.mktemp("wf")
    task = wf.MnistExample(
        output_dir=str(out), arch="conv", latent_dim=16, epochs=3, limit=2000, batch_size=32
    )
    report = run_tasks([task])
    return task, out, report


def test_paths_are_built_from_parameters(example):
    task, out, _ = example
    assert task.run_dir == out / "mnist" / "conv_latent16_bce_seed0_e3_n2000_b32"


def test_loss_falls_and_summary_is_complete(example):
    task, _, report = example
    assert report.status == "SUCCESS"
    summary = json.loads(Path(task.output().path).read_text())
    val = [h["val_loss"] for h in summary["history"]]
    train = [h["train_loss"] for h in summary["history"]]
    assert val[-1] < val[0] and train[-1] < train[0]
    assert summary["parameters"]["latent_dim"] == 16 and summary["parameters"]["limit"] == 2000
    assert summary["data"]["train_used"] == 2000 and summary["data"]["validation"] == 10_000
    assert summary["final"]["val_bce_per_pixel"] == pytest.approx(val[-1])
    assert 0.05 < summary["final"]["test_bce_per_pixel"] < 0.7
    assert summary["wall_time_s"]["training"] > 0
    for key, value in summary["outputs"].items():
        for path in value if isinstance(value, list) else [value]:
            assert Path(path).is_file(), key


def test_every_picture_is_valid(example):
    task, _, _ = example
    grids = sorted((task.run_dir / "reconstructions").glob("epoch_*.png"))
    assert [p.name for p in grids] == ["epoch_001.png", "epoch_002.png", "epoch_003.png"]
    shapes = set()
    for path in [*grids, task.run_dir / "cost.png", task.run_dir / "latent_space.png"]:
        assert path.read_bytes()[:8] == PNG
        image = iio.imread(path)
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
        if path in grids:
            shapes.add(image.shape)
    assert len(shapes) == 1  # every epoch's grid has the same size
    frames = iio.imread(task.run_dir / "training.gif", index=None)
    assert frames.shape[0] >= 3 and frames.shape[1:3] == next(iter(shapes))[:2]
    # the grids differ from epoch to epoch: the reconstructions change as the model learns
    first, last = (iio.imread(p).astype(int) for p in (grids[0], grids[-1]))
    assert np.abs(first - last).mean() > 0.5


def test_no_temporary_files_left(example):
    _, out, _ = example
    assert not list(out.rglob(".tmp-*"))
    assert not list(out.rglob("checkpoint.pt"))  # removed once model.pt is complete


def test_rerun_is_complete_and_runs_nothing(example):
    task, out, _ = example
    log = out / "task_runs.jsonl"
    before = log.read_text()
    assert luigi.build([task], local_scheduler=True, log_level="CRITICAL")
    assert log.read_text() == before


def test_luigi_command_line_runs_the_same_tasks(example, tmp_path):
    """`luigi --module hgcal_ae.workflows.mnist ...` reaches the same, already complete task."""
    _, out, _ = example
    import subprocess
    import sys

    cmd = [
        sys.executable, "-m", "luigi", "--module", "hgcal_ae.workflows.mnist", "MnistExample",
        "--output-dir", str(out), "--arch", "conv", "--latent-dim", "16", "--epochs", "3",
        "--limit", "2000", "--batch-size", "32", "--local-scheduler",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "complete ones were encountered" in done.stderr + done.stdout


def test_truncated_cache_is_built_again(mnist_cache, tmp_path, monkeypatch):
    """The data cache lives outside output_dir; a truncated one is rebuilt, not trusted."""
    cache = tmp_path / "cache"
    cache.mkdir()
    data = mnist_cache.read_bytes()
    (cache / mnist_cache.name).write_bytes(data[: len(data) // 2])
    monkeypatch.setenv("HGCAL_AE_CACHE", str(cache))
    task = wf.PrepareImages(output_dir=str(tmp_path / "out"))
    assert task.output().path == str(cache / mnist_cache.name)
    assert not task.complete()
    run_tasks([task], progress=False)
    assert task.complete()
    with np.load(cache / mnist_cache.name) as rebuilt, np.load(mnist_cache) as original:
        assert rebuilt.files == original.files
        for key in original.files:
            assert np.array_equal(rebuilt[key], original[key]), key
