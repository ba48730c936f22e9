"""``hgcal-ae compare`` end to end on the smoke study: the preset's seed is the study's own AE,
the other seeds train beside it, and every number matches the study's table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from hgcal_ae.workflows.study import StudyReport

SMOKE_DIR = StudyReport(preset="smoke", output_dir="").study_dir  # study/smoke/<config id>


@pytest.fixture(scope="module")
def compared(smoke_runs: Any, run_cli: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("compare")
    shutil.copytree(smoke_runs.study, out / SMOKE_DIR)  # the study's data and its seed-0 AEs
    done = run_cli(out, "compare", "--preset", "smoke", "--variants", "telescope",
                   "--seeds", "0,1", "--latents", "16x3", "--workers", "1")  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done


def test_only_the_new_seed_trains_and_seed0_is_the_study_ae(compared: Any, smoke_runs: Any) -> None:
    out, done = compared
    trained = [line for line in done.stderr.splitlines() if "done TrainModuleAE" in line]
    assert len(trained) == 1 and "train_seed=1" in trained[0], done.stderr[-2000:]
    assert (out / SMOKE_DIR / "autoencoders" / "latent16_bits3_seed1" / "model.pt").is_file()
    (summary_path,) = out.glob("comparison/smoke/*/telescope_seeds0-1_16x3/summary.json")
    summary = json.loads(summary_path.read_text())
    study = json.loads((smoke_runs.study / "report" / "summary.json").read_text())
    at2 = {(r["algorithm"], r.get("latent_dim")): r for r in study["rows"] if r["n_elinks"] == 2}
    seed0 = next(r for r in summary["per_seed"] if r["seed"] == 0 and r["n_elinks"] == 2)
    assert seed0["emd_mean_cm"] == pytest.approx(at2[("autoencoder", 16)]["emd_mean_cm"], rel=1e-9)
    bc = next(b for b in summary["baselines"] if b["algorithm"] == "best_choice" and b["n_elinks"] == 2
              and b["table"] == "emu")  # fmt: skip
    assert bc["emd_mean_cm"] == pytest.approx(at2[("best_choice", None)]["emd_mean_cm"], rel=1e-9)
    assert any(
        b.get("table") == "cmssw" and b["label"] == "Best Choice (3 TCs)"
        for b in summary["baselines"]
    )
    (ae,) = [r for r in summary["autoencoders"] if r["n_elinks"] == 2]
    s = ae["emd_mean_cm_seeds"]
    assert s["n"] == 2 and s["std"] > 0 and min(s["values"]) <= s["mean"] <= max(s["values"])
    assert "emd_vs_eta.png" not in summary["outputs"]  # |eta| bins: occupancy pu200 only
    for name in ("emd_vs_occupancy.png", "cluster_resolution.png"):
        with Image.open(summary["outputs"][name]) as im:
            assert im.size[0] >= 700
    assert "16×3 (2 seeds)" in Path(summary["outputs"]["comparison.md"]).read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--variants", "cond"], "variant 'cond' is conditional and needs occupancy pu200"),
        (["--variants", "best"], "unknown variant 'best'"),
        (["--seeds", "0,x"], "--seeds 'x': expected whole numbers >= 0"),
        (["--latents", "16by3"], "--latents '16by3': expected DIMxBITS"),
        (["--latents", "64x9"], "no code fits the preset's e-link settings"),
    ],
)
def test_bad_options_one_line_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    from hgcal_ae.cli import main

    assert main(["compare", "--preset", "smoke", "--output-dir", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and message in err, err
    assert not list(tmp_path.iterdir())


def test_the_docs_block_holds_the_seed_spreads(compared: Any, tmp_path: Path) -> None:
    from hgcal_ae.study.pages import RunSource, plan_pages

    out, _ = compared
    (summary_path,) = out.glob("comparison/smoke/*/telescope_seeds0-1_16x3/summary.json")
    summary = json.loads(summary_path.read_text())
    page = tmp_path / "docs" / "page.md"
    page.parent.mkdir()
    page.write_text(
        "# t\n\n<!-- begin generated: hardware-quantisation -->\n<!-- end generated: hardware-quantisation -->\n"
    )
    source = RunSource(summary_path, "comparison/summary.json", "hgcal-ae compare")
    plan = plan_pages([page], {"compare_qw": source}, tmp_path / "docs" / "images", tmp_path)
    plan.write()
    text = page.read_text()
    (ae,) = [r for r in summary["autoencoders"] if r["n_elinks"] == 2]
    s = ae["emd_mean_cm_seeds"]
    assert (
        f"| 2 | **AE, telescope loss 16×3** | {ae['bits']:.1f} | {s['mean']:.3f} ± {s['std']:.3f} |"
        in text
    )
    assert "training seeds 0, 1" in text
    assert (tmp_path / "docs/images/compare_qw_cluster_resolution.png").is_file()
    readme = tmp_path / "README.md"
    readme.write_text(
        "# r\n\n<!-- begin generated: readme-compare -->\n<!-- end generated: readme-compare -->\n"
    )
    plan = plan_pages([readme], {"compare_pu200": source}, tmp_path / "docs" / "images", tmp_path)
    plan.write()
    line = f"has a mean EMD of {s['mean']:.3f} ± {s['std']:.3f} cm"
    assert line in readme.read_text() and "Exact-EMD" not in readme.read_text()  # no EMD variant
