"""Study tasks are complete when this exact configuration's outputs are whole (law's rule):
file times and saved settings play no part, missing or broken files upstream do."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hgcal_ae.atomic import write_json
from hgcal_ae.models.module_ae import ModuleAutoencoder
from hgcal_ae.models.module_training import save_module_ae
from hgcal_ae.study.presets import study_preset
from hgcal_ae.study.showers import make_trigger_dataset
from hgcal_ae.workflows.study import EvaluateCompression, TrainModuleAE, TriggerCellData

SMOKE = study_preset("smoke")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The smoke preset's real trigger-cell file (a few seconds)."""
    root = tmp_path_factory.mktemp("completeness")
    path = Path(TriggerCellData(output_dir=str(root), preset="smoke").output().path)
    make_trigger_dataset(SMOKE.dataset_config(), path)
    os.utime(path, (1_000, 1_000))
    return root


def _save_model(task: TrainModuleAE, mtime_s: int) -> None:
    config = SMOKE.training_config(task.latent_dim, task.latent_bits)
    path = Path(task.output().path)
    save_module_ae(path, ModuleAutoencoder(config.ae_config()), config, [])
    os.utime(path, (mtime_s, mtime_s))


def test_a_whole_model_is_complete_whatever_the_file_times(data: Path) -> None:
    task = TrainModuleAE(output_dir=str(data), preset="smoke", latent_dim=4, latent_bits=3)
    assert not task.complete()
    _save_model(task, 2_000)
    assert task.complete()
    data_file = Path(task.input().path)
    os.utime(data_file, (3_000, 3_000))  # newer showers of the same configuration: the same
    try:
        assert task.complete()
    finally:
        os.utime(data_file, (1_000, 1_000))
    Path(task.output().path).write_bytes(b"not a model")
    assert not task.complete()


def test_the_evaluation_is_incomplete_while_a_model_is_missing_or_broken(data: Path) -> None:
    evaluation = EvaluateCompression(output_dir=str(data), preset="smoke")
    models = [t for key, t in evaluation.requires().items() if key.startswith("ae_")]
    for task in models:
        _save_model(task, 2_000)
    out = Path(evaluation.output().path)
    write_json(out, {"rows": []})
    os.utime(out, (1_500, 1_500))  # older than the models: no matter
    assert evaluation.complete()
    Path(models[0].output().path).unlink()
    assert not evaluation.complete()  # the run retrains it and evaluates again
    _save_model(models[0], 4_000)
    assert evaluation.complete()
    out.write_text('{"rows": [')  # a truncated evaluation is not complete
    assert not evaluation.complete()
