"""The showers' options of ``study`` reach the tasks' data set and output folder."""

from __future__ import annotations

from hgcal_ae.cli import build_parser
from hgcal_ae.cli.study import study_parameters

PU200 = ("--occupancy", "pu200")


def test_shower_options_reach_the_data_set_and_the_output_folder(tmp_path):
    from hgcal_ae.workflows.study import TriggerCellData

    def task(*options):
        args = build_parser().parse_args(["study", "--preset", "smoke", *PU200, *options,
                                          "--output-dir", str(tmp_path)])  # fmt: skip
        return TriggerCellData(**study_parameters(args))

    default = task()
    chosen = task("--particle", "gamma", "--energies", "30,60", "--eta-range", "2.0,2.4",
                  "--pileup-scale", "0.5")  # fmt: skip
    config = chosen.spec().dataset_config(chosen.occupancy)
    assert (config.particle, config.energies_gev) == ("gamma", (30.0, 60.0))
    assert (config.eta_range, config.pileup_scale) == ((2.0, 2.4), 0.5)
    assert default.spec().dataset_config("pu200").eta_range == (1.5, 3.0)
    paths = {default.output().path, chosen.output().path,
             task("--pileup-scale", "0.5").output().path,
             task("--eta-range", "2.0,2.4").output().path}  # fmt: skip
    assert len(paths) == 4  # other options, another folder


def test_conditional_study_trains_conditional_aes_in_their_own_folder(tmp_path):
    from hgcal_ae.models.module_ae import CONDITIONS
    from hgcal_ae.workflows.study import TrainModuleAE

    common = {"preset": "smoke", "occupancy": "pu200", "output_dir": str(tmp_path)}
    plain = TrainModuleAE(**common, latent_dim=16, latent_bits=3)
    conditional = TrainModuleAE(**common, latent_dim=16, latent_bits=3, conditional=True)
    assert plain.spec().training_config(16, 3).conditions == ()
    assert conditional.spec().training_config(16, 3).conditions == tuple(CONDITIONS)
    assert conditional.run_name == "smoke_pu200_cond"
    assert plain.output().path != conditional.output().path
