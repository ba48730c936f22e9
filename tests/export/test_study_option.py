"""``hgcal-ae study --quantised-weights``: the grid's AEs train with the on-chip 6-bit weights."""

from __future__ import annotations

from hgcal_ae.cli import build_parser
from hgcal_ae.study.presets import study_preset
from hgcal_ae.workflows.study import TrainModuleAE


def test_the_option_reaches_the_training_config_and_its_own_folder(tmp_path):
    args = build_parser().parse_args(["study", "--preset", "smoke", "--quantised-weights"])
    assert args.quantised_weights
    task = TrainModuleAE(output_dir=str(tmp_path), preset="smoke", quantised_weights=True,
                         latent_dim=4, latent_bits=3)  # fmt: skip
    assert task.run_name == "smoke_qw" and "smoke_qw" in task.output().path
    assert task.spec().training_config(4, 3).quantised_weights
    plain = TrainModuleAE(output_dir=str(tmp_path), preset="smoke", latent_dim=4, latent_bits=3)
    assert plain.run_name == "smoke" and not plain.spec().training_config(4, 3).quantised_weights
    assert not study_preset("smoke").quantised_weights
