"""The data-scaling study (issue 10.4): nested training subsets and ``hgcal-ae scaling``."""

from __future__ import annotations

import json
import shutil

import imageio.v3 as iio
import numpy as np
import pytest

from hgcal_ae.cli import main
from hgcal_ae.cli.docs import scaling_source
from hgcal_ae.cli.scaling import parse_sizes
from hgcal_ae.errors import ConfigError
from hgcal_ae.study.scaling import equal_step_epochs, training_subsets


def test_subsets_are_nested_whole_events_of_at_least_the_size():
    rng = np.random.default_rng(5)
    event = np.repeat(np.arange(200), rng.integers(1, 30, size=200))
    train = np.flatnonzero(np.isin(event, np.arange(0, 200, 3), invert=True))
    subsets = training_subsets(event, train, [10, 100, 1000, train.size], seed=3)
    previous = np.array([], dtype=np.int64)
    for size, rows in subsets.items():
        assert rows.size >= size and np.isin(rows, train).all()
        assert np.isin(previous, rows).all()  # nested
        chosen = np.unique(event[rows])
        assert np.isin(np.flatnonzero(np.isin(event, chosen)), rows).all()  # whole events
        previous = rows
    # the shortest prefix of the seeded event order (a plain loop as the reference)
    events = np.unique(event[train])
    order = events[np.random.default_rng(3).permutation(events.size)]
    taken: list[int] = []
    while sum(int((event[train] == e).sum()) for e in taken) < 100:
        taken.append(order[len(taken)])
    np.testing.assert_array_equal(subsets[100], train[np.isin(event[train], taken)])
    assert subsets[train.size].size == train.size
    again = training_subsets(event, train, [100], seed=3)[100]
    np.testing.assert_array_equal(again, subsets[100])
    assert not np.array_equal(training_subsets(event, train, [100], seed=4)[100], again)


@pytest.mark.parametrize("size", [0, -5, 10**9])
def test_a_size_outside_the_training_set_names_both(size):
    event = np.arange(10).repeat(3)
    with pytest.raises(ConfigError, match=rf"training-set size {size}: expected 1 to 30"):
        training_subsets(event, np.arange(30), [size], seed=0)


def test_equal_step_epochs_match_the_largest_sets_steps():
    # 20 epochs of 483,324 modules in batches of 500: 20 x 967 = 19,340 steps
    assert equal_step_epochs(483_324, 483_324, 20, 500) == 20
    assert equal_step_epochs(16_042, 483_324, 20, 500) == 586  # 33 batches an epoch
    for n in (1, 499, 500, 501, 7_777, 16_042, 150_041):
        epochs, per_epoch = equal_step_epochs(n, 483_324, 20, 500), -(-n // 500)
        assert abs(epochs * per_epoch - 19_340) <= per_epoch / 2 or epochs == 1
    assert equal_step_epochs(499, 500, 1, 500) == 1  # one batch either way
    with pytest.raises(ConfigError, match="n_rows 600 exceeds the largest set's 500"):
        equal_step_epochs(600, 500, 1, 100)
    with pytest.raises(ConfigError, match="batch_size must be > 0, got 0"):
        equal_step_epochs(10, 500, 1, 0)


def test_sizes_option():
    assert parse_sizes("50000,16000,all") == (16000, 50000, 0)
    for bad, expected in (("0", "expected a whole number"), ("1e4", "expected a whole number"),
                          ("100,100", "each size once"), (",", "comma-separated list")):  # fmt: skip
        with pytest.raises(ConfigError, match=expected):
            parse_sizes(bad)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--sizes", "ten"], "--sizes 'ten': expected a whole number of modules > 0 or 'all'"),
        (["--epochs", "-1"], "--epochs must be >= 0"),
        (["--schedule", "weekly"], "--schedule 'weekly': expected one of steps, epochs"),
        (["--preset", "huge"], "unknown preset 'huge'"),
        (["--workflow", "pbs"], "unknown workflow 'pbs'"),
    ],
)
def test_bad_options_are_one_line_and_write_nothing(tmp_path, capsys, options, expected):
    out = tmp_path / "out"
    assert main(["scaling", "--preset", "smoke", *options, "--output-dir", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hgcal-ae: error: ") and expected in err[0]
    assert not out.exists()


def test_scaling_run_on_the_smoke_studys_showers(smoke_runs, tmp_path, run_cli):
    """The study's showers (copied: nothing simulated again), two sizes: the same steps as one
    epoch of all (the default schedule), then one epoch each (``--schedule epochs``)."""
    out = tmp_path / "out"
    shutil.copytree(smoke_runs.out / "study", out / "study")
    run = run_cli(out, "scaling", "--preset", "smoke", "--sizes", "300,all", "--epochs", "1")
    assert run.returncode == 0, run.stderr[-3000:]
    steps = list(out.glob("scaling/smoke/*/report_n300_all_e1_steps/summary.json"))
    assert len(steps) == 1
    summary = json.loads(steps[0].read_text())
    small, large = summary["rows"]
    assert summary["training"]["schedule"] == "steps" and large["epochs"] == 1
    batch = summary["training"]["batch_size"]
    per_epoch = -(-small["n_train_non_empty"] // batch)
    assert small["epochs"] > 1 and abs(small["n_steps"] - large["n_steps"]) <= per_epoch / 2
    assert large["n_steps"] == -(-large["n_train_non_empty"] // batch)
    assert 0 < summary["training"]["n_val_modules"] <= 20_000
    assert all(r["train_loss"] > 0 and r["val_loss"] > 0 for r in summary["rows"])
    assert f"{small['epochs']} epochs, {small['n_steps']:,} steps" in run.stdout
    run = run_cli(out, "scaling", "--preset", "smoke", "--sizes", "300,all", "--epochs", "1",
                  "--schedule", "epochs")  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    trained = [line for line in (out / "task_runs.jsonl").read_text().splitlines()
               if "TrainScalingAE" in line]  # fmt: skip
    assert len(trained) == 3  # the largest size's model serves both schedules
    summaries = list(out.glob("scaling/smoke/*/report_n300_all_e1/summary.json"))
    assert len(summaries) == 1 and summaries[0].parent.parent.name == smoke_runs.study.name
    summary = json.loads(summaries[0].read_text())
    rows, baselines = summary["rows"], summary["baselines"]
    assert [r["n_train_requested"] for r in rows] == [300, summary["n_train_modules_available"]]
    assert 300 <= rows[0]["n_train_modules"] < rows[1]["n_train_modules"]
    assert all(r["label"] == "AE 16×3 bits" and r["n_elinks"] == 2 for r in rows)
    assert [b["algorithm"] for b in baselines] == ["best_choice", "stc_2x2"]
    # the baselines on the study's own test modules: the study's numbers at 2 e-links
    study = json.loads((smoke_runs.study_report / "summary.json").read_text())
    for b in baselines:
        same = next(r for r in study["rows"] if r["algorithm"] == b["algorithm"]
                    and r["n_elinks"] == 2)  # fmt: skip
        assert b["emd_mean_cm"] == pytest.approx(same["emd_mean_cm"], rel=1e-9)
        assert b["emd_sem_cm"] > 0
    assert summary["n_test_modules"] == study["n_test_modules"]
    answer = summary["answer"]
    assert answer["emd_gain_cm"] == pytest.approx(rows[0]["emd_mean_cm"] - rows[1]["emd_mean_cm"])
    image = iio.imread(summary["outputs"]["scaling.png"])
    assert image.shape[0] > 300 and image[..., :3].std() > 10
    assert "training modules" in run.stdout and "done: the report is in" in run.stdout
    assert [r["epochs"] for r in rows] == [1, 1] and rows[0]["n_steps"] < rows[1]["n_steps"]
    assert rows[1]["emd_mean_cm"] == pytest.approx(large["emd_mean_cm"], rel=1e-12)
    assert not [line for line in (out / "task_runs.jsonl").read_text().splitlines()
                if "TriggerCellData" in line]  # fmt: skip
    # the docs show the steps schedule's report, and name its command
    source, command = scaling_source(out, "smoke")
    assert source == steps[0]
    assert command == "hgcal-ae scaling --preset smoke --sizes 300,all --epochs 1"
