"""``hgcal-ae beamtest`` end to end on a ROOT file in the 2018 ntuple layout, and its bad input."""

from __future__ import annotations

import json
from pathlib import Path

import awkward as ak
import h5py
import numpy as np
import pytest
import uproot

from hgcal_ae.cli import main
from hgcal_ae.datasets.events import read_events, write_events
from hgcal_ae.datasets.root_ingest import ROOT_TREE
from hgcal_ae.simulation.run import shower_model, simulate_batch
from hgcal_ae.simulation.showers import BeamConfig
from hgcal_ae.study.page_beamtest import beamtest_bits, beamtest_grouping
from hgcal_ae.study.page_context import BlockContext, Doc
from hgcal_ae.study.pages import RunSource, plan_pages

ENERGIES = (20.0, 100.0, 300.0)
TINY = ["--latent-dims", "2", "--epochs-per-shower", "1", "--emd-events", "2"]
TINY += ["--families", "per_shower"]  # the per-layer family: tests/study/test_beamtest.py
# the bits scan (3 bits at latent 2), one AE on 7-cell clusters, 7-cell sums sent directly
TINY += ["--bits-scan", "3", "--bits-scan-dims", "2", "--group-sizes", "7"]
TINY += ["--group-ae-sizes", "7", "--group-ae-dims", "2"]


def _simulated(n_per_energy: int):
    groups = [(BeamConfig(particle="e+", energy_gev=e), n_per_energy) for e in ENERGIES]
    return simulate_batch(groups, shower_model("tb2018"), np.random.default_rng(5))


def write_2018_ntuple(path: Path, n_per_energy: int, tree: str = ROOT_TREE) -> Path:
    """Simulated showers written as the rechitntupler's TTree: one entry per event, jagged hits
    (layer, x, y, z, energy in MIP), the event number and the beam energy; plus CE-H hits
    (layer 30) that the ingest drops."""
    batch = _simulated(n_per_energy)
    counts = batch.hits_per_event()
    extra = np.ones(batch.n_events, dtype=np.int64)  # one hadronic-section hit per event

    def jagged(values: np.ndarray, hadronic: float) -> ak.Array:
        per_event = ak.unflatten(values, counts)
        return ak.concatenate(
            [per_event, ak.unflatten(np.full(batch.n_events, hadronic, values.dtype), extra)],
            axis=1,
        )

    data = {
        "event": batch.event_id.astype(np.int32),
        "beamEnergy": batch.true_energy_gev.astype(np.float32),
        "rechit_layer": jagged(batch.layer.astype(np.int32), 30),
        "rechit_x": jagged(batch.x_cm, 0.0),
        "rechit_y": jagged(batch.y_cm, 0.0),
        "rechit_z": jagged(batch.z_cm, 60.0),
        "rechit_energy": jagged(batch.energy_mip, 5.0),
    }
    types = {k: (v.type.content if isinstance(v, ak.Array) else v.dtype) for k, v in data.items()}
    with uproot.recreate(path) as file:
        file.mktree(tree, types, counter_name=lambda _: "NRechits").extend(data)
    return path


def _one_error_line(capsys: pytest.CaptureFixture[str], *expected: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("hgcal-ae: error:")]
    assert len(errors) == 1 and err[-1] == errors[0], err
    for text in expected:
        assert text in errors[0], errors[0]
    return errors[0]


def test_root_file_runs_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_2018_ntuple(tmp_path / "run2018.root", 60)
    out = tmp_path / "out"
    assert main(["beamtest", "--root", str(root), *TINY, "--quiet", "--output-dir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "events: 180 at 20, 100, 300 GeV" in printed and "per_shower:" in printed
    folder = out / "beamtest" / "run2018"
    assert (folder / "events.h5").is_file()  # the ingest, beside the study
    summary = json.loads((folder / "ae" / "summary.json").read_text())
    assert summary["source"]["kind"] == "root" and summary["events"]["n_events"] == 180
    assert summary["events"]["n_hits_off_sensor"] == 0  # every CE-E hit located on a cell
    assert [m["family"] for m in summary["models"]] == ["per_shower"]  # per layer: test_beamtest
    for name in ("pareto", "profiles_per_shower", "event_display_per_shower", "bits_pareto",
                 "grouping"):  # fmt: skip
        assert Path(summary["outputs"][name]).read_bytes()[:4] == b"\x89PNG"
    # the bits scan and the clusters: every way of sending an event is a point, fronts marked
    points = {p["key"]: p for p in summary["bits"]["points"]}
    assert set(points) == {"per_shower_2", "per_shower_2_3b", "per_shower_2_g7", "direct_7"}
    assert points["per_shower_2_3b"]["bits_per_event"] == 2 * 3 + 16
    assert points["per_shower_2_3b"]["latent_bits"] == 3
    assert points["per_shower_2_g7"]["group_size"] == 7
    assert (folder / "ae" / "per_shower_latent2x8b_e1_seed0_emd2_g7" / "model.pt").is_file()
    for keys in summary["bits"]["pareto_front"].values():
        bits = [points[k]["bits_per_event"] for k in keys]
        assert keys and bits == sorted(bits)
    grouping = summary["grouping"]
    assert [p["group_size"] for p in grouping["direct"]] == [7]
    assert grouping["clusters"]["7"]["n_groups"] == 19
    assert [p["key"] for p in grouping["autoencoders"]] == ["per_shower_2_g7"]
    assert [m["key"] for m in summary["extra_models"]] == ["per_shower_2_3b", "per_shower_2_g7"]
    batch, _ = read_events(folder / "events.h5")
    assert set(np.unique(batch.layer)) <= set(range(1, 29))  # CE-H hits dropped
    # the docs block renders from this run's summary, with its figures
    docs = tmp_path / "docs"
    docs.mkdir()
    page = docs / "beamtest.md"
    page.write_text(
        "# x\n\n<!-- begin generated: beamtest-results -->\n<!-- end generated: beamtest-results -->\n"
    )
    source = RunSource(
        folder / "ae" / "summary.json", "beamtest/run2018/ae/summary.json", "hgcal-ae beamtest"
    )
    plan_pages([page], {"beamtest": source}, docs / "images", tmp_path).write()
    text = page.read_text()
    assert "**Criterion:** at every beam energy" in text and "| per shower | 2 | 32 |" in text
    assert (docs / "images" / "beamtest_pareto.png").is_file()
    # the blocks of the bits scan and of the clusters, from the same summary
    rendered = {}
    for name, render in (
        ("beamtest-bits", beamtest_bits),
        ("beamtest-grouping", beamtest_grouping),
    ):
        ctx = BlockContext(
            Doc(summary, "summary.json", name),
            folder / "ae" / "summary.json",
            "s",
            "hgcal-ae beamtest",
        )
        rendered[name] = render(ctx).text
        assert [f.source.read_bytes()[:4] for f in ctx.figures] == [b"\x89PNG"]
    assert "| per shower, latent 2×3 bits | 22 | 0.8 |" in rendered["beamtest-bits"]
    assert "7-cell sums sent" in rendered["beamtest-grouping"]
    assert "| per shower, latent 2×8 bits | 32 |" in rendered["beamtest-grouping"]  # cells alone
    assert "| 7 | 19 | 6 × 4, 6 × 6, 7 × 7 | 5 |" in rendered["beamtest-grouping"]


@pytest.fixture
def events_file(tmp_path: Path) -> Path:
    from hgcal_ae.simulation.run import shower_model as model_of

    return write_events(
        tmp_path / "events.h5", _simulated(4), {"detector": model_of("tb2018").setup.describe()}
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--latent-dims", "0"], ("latent dim must be in 1..109", "got 0")),
        (
            ["--latent-dims", "110", "--families", "per_layer"],
            ("latent dim must be in 1..109", "got 110"),
        ),
        (
            ["--energies", "20", "--events", "1"],
            ("1 events give no validation event", "at least one per split"),
        ),
        (["--events", "20"], ("test events of 20", "at least 10 per energy")),
        (["--bits-scan", "0"], ("--bits-scan takes bits per latent value in 1..16", "got 0")),
        (["--bits-scan", "3,x"], ("--bits-scan takes integers or none", "got 'x'")),
        (["--bits-scan-dims", "0"], ("latent dim must be in 1..109", "got 0")),
        (["--group-sizes", "4"], ("--group-sizes takes cells per cluster in 1, 2, 3, 7", "got 4")),
        (["--group-ae-sizes", "2,6"], ("--group-ae-sizes takes cells per cluster", "got 6")),
        (["--group-ae-dims", ""], ("--group-ae-dims needs a comma-separated list",)),
    ],
)
def test_bad_options_are_one_line_and_no_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: tuple[str, ...]
) -> None:
    out = tmp_path / "out"
    assert main(["beamtest", *argv, "--output-dir", str(out)]) == 2
    _one_error_line(capsys, *expected)
    assert not out.exists()


def test_eight_inch_events_file_is_refused(
    tmp_path: Path, events_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch, metadata = read_events(events_file)
    detector = {**metadata["detector"], "geometry": "hd8", "sensor": "hd8", "wafers_per_layer": 7}
    path = write_events(tmp_path / "hd8.h5", batch, {"detector": detector})
    out = tmp_path / "out"
    assert main(["beamtest", "--events-file", str(path), "--output-dir", str(out)]) == 1
    _one_error_line(capsys, "sensor 'hd8'", "expected the beam-test sensor 'tb2018_6inch'")
    assert not out.exists()


def test_misnamed_field_is_refused(
    tmp_path: Path, events_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with h5py.File(events_file, "r+") as f:
        f.move("hits/layer", "hits/layers")
    out = tmp_path / "out"
    assert main(["beamtest", "--events-file", str(events_file), "--output-dir", str(out)]) == 1
    _one_error_line(capsys, "layer")
    assert not out.exists()


def test_root_file_without_the_tree_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "other.root"
    with uproot.recreate(root) as file:
        file["something/else"] = {"x": np.arange(3)}
    out = tmp_path / "out"
    assert main(["beamtest", "--root", str(root), "--quiet", "--output-dir", str(out)]) == 1
    _one_error_line(capsys, "rechitntupler/hits", "other.root")
    assert not out.exists()
