from __future__ import annotations

import json
import math

import imageio.v3 as iio
import numpy as np
import pytest

from hgcal_ae.datasets.splits import split_rows
from hgcal_ae.datasets.trigger_cells import read_trigger_cells
from hgcal_ae.errors import ConfigError
from hgcal_ae.models.module_training import ModuleTrainingConfig, train_module_autoencoder
from hgcal_ae.plots.neighbours import neighbour_plot
from hgcal_ae.study.neighbours import neighbour_study
from hgcal_ae.study.showers import TriggerDatasetConfig, make_trigger_dataset

PNG = b"\x89PNG\r\n\x1a\n"
SETTINGS = {"latent_dim": 8, "latent_bits": 3, "epochs": 2, "seed": 1, "batch_size": 128}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("neighbour-study") / "tiny.h5"
    config = TriggerDatasetConfig(
        energies_gev=(20.0, 100.0), events_per_energy=6, events_per_group=1, seed=3
    )
    make_trigger_dataset(config, path)
    return read_trigger_cells(path)[0]


@pytest.fixture(scope="module")
def result(data):
    return neighbour_study(data, "ld8", fractions=(0.5, 0.25, 0.25), **SETTINGS)


def test_study_on_simulated_showers_gives_finite_numbers(result):
    rows = {(r["model"], r["showers"]): r for r in result.rows}
    assert set(rows) == {
        (m, c)
        for m in ("alone", "with_neighbours", "shuffled_border")
        for c in ("all", "split", "contained")
    }
    for model in ("alone", "with_neighbours", "shuffled_border"):
        everything = rows[model, "all"]
        assert (
            everything["n_modules"]
            == rows[model, "split"]["n_modules"] + rows[model, "contained"]["n_modules"]
        )
        for key, value in everything.items():
            assert isinstance(value, str) or (isinstance(value, float) and math.isfinite(value)), (
                key
            )
        assert everything["emd_mean_cm"] > 0 and everything["event_barycentre_shift_mean_mm"] >= 0
    assert result.emd_cm["alone"].shape == result.test_split.shape
    split = result.summary["split_statistics"]
    assert 0 < split["all"]["split_share_event_layers"] < 1
    assert (
        sum(split["all"]["hottest_fraction_histogram"]["counts"]) == split["all"]["n_event_layers"]
    )
    assert split["test"]["n_module_rows"] == rows["alone", "all"]["n_modules"]
    both = result.summary["training"]
    assert (
        both["alone"]["parameters"]["decoder"] == both["with_neighbours"]["parameters"]["decoder"]
    )
    json.dumps(result.summary, allow_nan=False)  # plain JSON: no NaN, no numpy types


def test_study_is_deterministic(data, result):
    again = neighbour_study(data, "ld8", fractions=(0.5, 0.25, 0.25), control=False, **SETTINGS)
    same = [r for r in result.rows if r["model"] != "shuffled_border"]
    assert json.dumps(again.rows) == json.dumps(same)  # bitwise equal floats (nan included)
    np.testing.assert_array_equal(again.emd_cm["with_neighbours"], result.emd_cm["with_neighbours"])


def test_figure_is_drawn_from_the_json_summary(result, tmp_path):
    summary = json.loads(json.dumps(result.summary))
    path = neighbour_plot(summary, tmp_path / "neighbours.png")
    assert path.read_bytes()[:8] == PNG
    assert iio.imread(path).shape[:2] == (480, 1600)
    assert [p.name for p in tmp_path.iterdir()] == ["neighbours.png"]  # atomic: no leftovers
    del summary["emd_histogram"]
    with pytest.raises(ConfigError, match="neighbour summary has no 'emd_histogram/edges_cm'"):
        neighbour_plot(summary, tmp_path / "broken.png")
    assert not (tmp_path / "broken.png").exists()


def test_bad_study_settings(data):
    with pytest.raises(ConfigError, match="fractions must be three shares"):
        neighbour_study(data, "ld8", fractions=(0.5, 0.5), **SETTINGS)
    with pytest.raises(ConfigError, match="has no trigger-cell map"):
        neighbour_study(data, "tb2018", **SETTINGS)
    with pytest.raises(ConfigError, match=r"latent_bits must be an integer in 1\.\.16"):
        neighbour_study(data, "ld8", **{**SETTINGS, "latent_bits": 0})


def test_a_given_alone_model_is_used_as_it_is(data, result):
    """The workflow passes the study's own trained model: same split, same model, same numbers."""
    train, val, _ = split_rows(data.event, (0.5, 0.25, 0.25), seed=SETTINGS["seed"])
    config = ModuleTrainingConfig(**SETTINGS)
    tc = np.asarray(data.tc, dtype=np.float64)
    alone, _ = train_module_autoencoder(config, tc[train], tc[val])
    given = neighbour_study(
        data, "ld8", alone=alone, fractions=(0.5, 0.25, 0.25), control=False, **SETTINGS
    )
    assert given.models["alone"] is alone
    np.testing.assert_array_equal(given.emd_cm["alone"], result.emd_cm["alone"])
    assert given.summary["training"]["alone"]["trained_by"] == "the study"
    with pytest.raises(ConfigError, match="'alone' model has a 8x3-bit code, expected 4x3"):
        neighbour_study(data, "ld8", alone=alone, **{**SETTINGS, "latent_dim": 4})


def test_border_models_trained_alone_give_the_same_study(data, result, tmp_path):
    """Issue 10: the merging grid trains each border AE in its own task (train_border_model,
    saved and loaded); the study given those models equals the one that trains them."""
    from hgcal_ae.models.border_ae import BorderTrainingConfig, load_border_ae, save_border_ae
    from hgcal_ae.study.neighbours import BORDER_MODELS, train_border_model

    config = ModuleTrainingConfig(**SETTINGS)
    fractions = (0.5, 0.25, 0.25)
    trained = {}
    for name in BORDER_MODELS:
        model, fit = train_border_model(data, "ld8", name, config, fractions=fractions)
        path = tmp_path / name / "model.pt"
        save_border_ae(path, model, BorderTrainingConfig.from_module(config, model.config.n_border),
                       fit.history)  # fmt: skip
        trained[name] = load_border_ae(path)
    given = neighbour_study(
        data, "ld8", fractions=fractions, alone=result.models["alone"], trained=trained, **SETTINGS
    )
    for name in BORDER_MODELS:
        np.testing.assert_array_equal(given.emd_cm[name], result.emd_cm[name])
        assert (
            given.summary["training"][name]["val_loss"]
            == result.summary["training"][name]["val_loss"]
        )
    with pytest.raises(ConfigError, match="unknown border model 'alone'"):
        train_border_model(data, "ld8", "alone", config)
