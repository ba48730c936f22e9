"""Study tasks rerun when what they were built from changed (as make decides), not otherwise."""

from __future__ import annotations

import os

import torch

from hgcal_ae.workflows.study import EvaluateCompression, TrainModuleAE


def _touch(path, mtime_s):
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(b"x")
    os.utime(path, (mtime_s, mtime_s))


def _save_model(task, config, mtime_s):
    path = task.run_dir / "model.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": config, "state_dict": {}}, path)
    os.utime(path, (mtime_s, mtime_s))


def test_a_model_trained_with_other_settings_is_trained_again(tmp_path):
    task = TrainModuleAE(output_dir=str(tmp_path), preset="smoke", latent_dim=4, latent_bits=3)
    _touch(task.study_dir / "trigger_cells.h5", 1_000)
    assert not task.complete()
    config = task.training_config().__dict__
    _save_model(task, config, 2_000)
    assert task.complete()
    _save_model(task, {**config, "epochs": config["epochs"] + 1}, 2_000)  # an older preset
    assert not task.complete()
    old = {k: v for k, v in config.items() if k != "decoder_head"}  # saved before the head existed
    _save_model(task, old, 2_000)
    assert not task.complete()
    _save_model(task, config, 2_000)
    _touch(task.study_dir / "trigger_cells.h5", 3_000)  # new showers: the model is stale
    assert not task.complete()


def test_the_evaluation_is_stale_once_a_model_is_newer(tmp_path):
    evaluation = EvaluateCompression(output_dir=str(tmp_path), preset="smoke")
    _touch(evaluation.study_dir / "trigger_cells.h5", 1_000)
    models = list(evaluation.requires().values())[1:]
    for task in models:
        _save_model(task, task.training_config().__dict__, 2_000)
    _touch(evaluation.study_dir / "evaluation.json", 3_000)
    assert evaluation.complete()
    _save_model(models[0], models[0].training_config().__dict__, 4_000)  # retrained
    assert not evaluation.complete()
