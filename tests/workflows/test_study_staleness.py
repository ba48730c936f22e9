"""Study tasks rerun when what they were built from changed (as make decides), not otherwise."""

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
    root = tmp_path_factory.mktemp("staleness")
    path = Path(TriggerCellData(output_dir=str(root), preset="smoke").output().path)
    make_trigger_dataset(SMOKE.dataset_config(), path)
    os.utime(path, (1_000, 1_000))
    return root


def _save_model(task: TrainModuleAE, config: object, mtime_s: int) -> None:
    path = Path(task.output().path)
    save_module_ae(path, ModuleAutoencoder(config.ae_config()), config, [])  # type: ignore[attr-defined]
    os.utime(path, (mtime_s, mtime_s))


def test_a_model_trained_with_other_settings_is_trained_again(data: Path) -> None:
    task = TrainModuleAE(output_dir=str(data), preset="smoke", latent_dim=4, latent_bits=3)
    assert not task.complete()
    config = SMOKE.training_config(4, 3)
    _save_model(task, config, 2_000)
    assert task.complete()
    _save_model(task, config.__class__(**{**config.__dict__, "epochs": config.epochs + 1}), 2_000)
    assert not task.complete()  # an older preset's model
    Path(task.output().path).write_bytes(b"not a model")
    assert not task.complete()
    _save_model(task, config, 2_000)
    data_file = Path(task.input().path)
    os.utime(data_file, (3_000, 3_000))  # new showers: the model is stale
    try:
        assert not task.complete()
    finally:
        os.utime(data_file, (1_000, 1_000))


def test_the_evaluation_is_stale_once_a_model_is_newer(data: Path) -> None:
    evaluation = EvaluateCompression(output_dir=str(data), preset="smoke")
    models = [t for key, t in evaluation.requires().items() if key.startswith("ae_")]
    for task in models:
        _save_model(task, SMOKE.training_config(task.latent_dim, task.latent_bits), 2_000)
    out = Path(evaluation.output().path)
    write_json(out, {"rows": []})
    os.utime(out, (3_000, 3_000))
    assert evaluation.complete()
    _save_model(
        models[0], SMOKE.training_config(models[0].latent_dim, models[0].latent_bits), 4_000
    )
    assert not evaluation.complete()  # retrained
    out.write_text('{"rows": [')  # a truncated evaluation is not complete either
    os.utime(out, (5_000, 5_000))
    assert not evaluation.complete()
