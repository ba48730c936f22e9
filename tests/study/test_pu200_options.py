"""The showers' options of ``study`` and ``merging`` (``--particle``, ``--energies``, and for
``--occupancy pu200`` ``--eta-range`` and ``--pileup-scale``): bad values, and how good ones
reach the data set and the output folder."""

from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.cli import main
from hgcal_ae.datasets.trigger_cells import read_trigger_cells
from hgcal_ae.errors import ConfigError
from hgcal_ae.study.occupancy_pu200 import rows_abs_eta
from hgcal_ae.study.showers import TriggerDatasetConfig, make_trigger_dataset

PU200 = ("--occupancy", "pu200")


@pytest.mark.parametrize("command", ["study", "merging"])
@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            (*PU200, "--eta-range", "1.2,2.0"),
            "(1.2, 2.0): expected two numbers lo < hi within 1.5-3.0",
        ),
        (
            (*PU200, "--eta-range", "2.0,3.5"),
            "(2.0, 3.5): expected two numbers lo < hi within 1.5-3.0",
        ),
        ((*PU200, "--eta-range", "2.0,2.0"), "(2.0, 2.0): expected two numbers lo < hi"),
        ((*PU200, "--eta-range", "2.4,2.0"), "(2.4, 2.0): expected two numbers lo < hi"),
        ((*PU200, "--eta-range", "2.0"), "--eta-range '2.0': expected two numbers LO,HI"),
        ((*PU200, "--eta-range", "a,b"), "--eta-range 'a,b': expected two numbers LO,HI"),
        ((*PU200, "--pileup-scale", "-0.5"), "pile-up scale -0.5: expected a finite number >= 0"),
        ((*PU200, "--pileup-scale", "nan"), "pile-up scale nan: expected a finite number >= 0"),
        ((*PU200, "--pileup-scale", "lots"), "--pileup-scale 'lots': expected a number >= 0"),
        (("--occupancy", "pu300"), "unknown occupancy 'pu300'; expected one of"),
        (("--eta-range", "2.0,2.5"), "--eta-range apply to --occupancy pu200 only"),
        (("--particle", "mu-"), "--particle 'mu-': expected one of e-, e+, gamma"),
        (("--energies", "20,-5"), "--energies '20,-5': expected energies > 0"),
    ],
)
def test_bad_shower_options_are_one_line_and_write_nothing(
    tmp_path, capsys, command, options, message
):
    out = tmp_path / "out"
    assert main([command, *options, "--output-dir", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hgcal-ae: error: ")
    assert message in err[0]
    assert not out.exists()


def test_eta_range_and_pileup_scale_shape_the_pu200_data(tmp_path):
    base = TriggerDatasetConfig(energies_gev=(20.0,), events_per_energy=3, occupancy="pu200",
                                events_per_group=1, eta_range=(2.6, 2.8))  # fmt: skip
    rows = {}
    for scale in (0.0, 1.0):
        path = tmp_path / f"scale{scale}.h5"
        make_trigger_dataset(TriggerDatasetConfig(**{**base.__dict__, "pileup_scale": scale}), path)
        rows[scale], meta = read_trigger_cells(path)
        assert meta["config"]["eta_range"] == [2.6, 2.8] and meta["config"]["pileup_scale"] == scale
    from hgcal_ae.detector.setups import detector_setup

    eta = rows_abs_eta(rows[0.0], detector_setup("ld8"), eta_range=(2.6, 2.8))
    central = rows[0.0].module == 0
    assert np.all((eta[central] > 2.55) & (eta[central] < 2.85))
    occupied = [float((np.asarray(rows[s].tc) > 0).sum(axis=1).mean()) for s in (0.0, 1.0)]
    assert occupied[1] > occupied[0] + 10  # high |eta|: the pile-up fills most TCs


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"eta_range": (1.0, 2.0)}, "within 1.5-3.0"), ({"pileup_scale": -1.0}, "pile-up scale")],
)
def test_dataset_config_checks_the_pu200_fields(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        TriggerDatasetConfig(occupancy="pu200", **kwargs)


def test_conditional_without_pu200_is_one_line(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["study", "--conditional", "--output-dir", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "hgcal-ae: error: --conditional needs --occupancy pu200 (its conditions include each "
        "module's |eta|), got --occupancy signal"
    ]
    assert not out.exists()
