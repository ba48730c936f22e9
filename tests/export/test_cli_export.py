"""``hgcal-ae export``: the formats end to end, and each bad input as one error line."""

from __future__ import annotations

import json
import sys

import pytest

from hgcal_ae.cli import main


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert sum(line.startswith("hgcal-ae: error:") for line in err) == 1, err
    assert err[-1].startswith("hgcal-ae: error:")
    return err[-1]


@pytest.mark.parametrize("fmt", ["onnx", "weights"])
def test_export_writes_the_format_and_a_summary_and_verifies(fmt, tiny_ae, tmp_path, capsys):
    out = tmp_path / "export"
    assert (
        main(
            [
                "export",
                str(tiny_ae.parent),
                "--format",
                fmt,
                "--output-dir",
                str(out),
                "--verify",
                "500",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert f"exported {fmt} to {out / fmt}" in printed
    assert "500 generated modules (seed 0): 0 of 2000 codes differ" in printed
    summary = json.loads((out / fmt / "summary.json").read_text())
    assert summary["verification"]["passed"] and summary["verification"]["codes_differing"] == 0
    assert all((out / fmt / f).exists() for f in summary["files"])
    assert summary["quantised_weights"] and summary["latent_bits"] == 5
    assert [p.name for p in out.iterdir()] == [fmt], "no temporary folder is left"
    # a second export replaces the first whole
    assert (
        main(["export", str(tiny_ae), "--format", fmt, "--output-dir", str(out), "--verify", "5"])
        == 0
    )
    assert json.loads((out / fmt / "summary.json").read_text())["verification"]["modules"] == 5
    assert [p.name for p in out.iterdir()] == [fmt]


def test_the_verification_modules_can_be_a_studys_trigger_cells(
    tiny_ae, smoke_runs, tmp_path, capsys
):
    data = smoke_runs.study / "trigger_cells.h5"
    args = ["export", str(tiny_ae), "--format", "weights", "--output-dir", str(tmp_path), "--verify", "300", "--modules", str(data)]  # fmt: skip
    assert main(args) == 0
    assert f"the first 300 non-empty modules of {str(data)!r}" in capsys.readouterr().out


def test_several_trigger_cell_files_are_read_in_turn(tiny_ae, smoke_runs, tmp_path, capsys):
    from hgcal_ae.datasets.trigger_cells import read_trigger_cells

    data = smoke_runs.study / "trigger_cells.h5"
    tc = read_trigger_cells(data)[0].tc
    k = int((tc.sum(axis=1) > 0).sum())  # the non-empty modules of one file
    args = ["export", str(tiny_ae), "--format", "weights", "--output-dir", str(tmp_path),
            "--verify", str(k + 10), "--modules", f"{data},{data}"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"{k + 10} non-empty modules: {k} of {str(data)!r}, 10 of {str(data)!r}" in out
    summary = json.loads((tmp_path / "weights" / "summary.json").read_text())
    assert summary["verification"]["modules"] == k + 10


def test_a_failed_verification_exits_1_naming_the_count(tiny_model, tmp_path, capsys):
    from hgcal_ae.models.module_ae import ModuleAEConfig, ModuleAutoencoder
    from hgcal_ae.models.module_training import ModuleTrainingConfig, save_module_ae

    config = ModuleTrainingConfig(latent_dim=4, filters=4)  # float weights: not exact on chip
    float_ae = ModuleAutoencoder(ModuleAEConfig(latent_dim=4, filters=4))
    float_ae.load_state_dict(tiny_model().state_dict())
    with __import__("torch").no_grad():
        float_ae.dense.weight.mul_(0.98765)  # off the 6-bit grid
    save_module_ae(tmp_path / "model.pt", float_ae, config, [])
    out = tmp_path / "out"
    assert (
        main(
            [
                "export",
                str(tmp_path),
                "--format",
                "weights",
                "--output-dir",
                str(out),
                "--verify",
                "1000",
            ]
        )
        == 1
    )
    line = _error_line(capsys)
    assert (
        "the exported weights encoder differs from PyTorch" in line
        and "--quantised-weights" in line
    )
    assert not json.loads((out / "weights" / "summary.json").read_text())["verification"]["passed"]


@pytest.mark.parametrize(
    ("args", "expected", "code"),
    [
        (
            ["--format", "vhdl"],
            "unknown export format 'vhdl'; choose one of onnx, hls4ml, weights",
            2,
        ),
        (
            ["--format", "onnx", "--verify", "0"],
            "--verify needs a positive number of modules, got 0",
            2,
        ),
    ],
)
def test_bad_options_are_one_line(args, expected, code, tiny_ae, tmp_path, capsys):
    assert main(["export", str(tiny_ae), "--output-dir", str(tmp_path / "out"), *args]) == code
    assert _error_line(capsys) == f"hgcal-ae: error: {expected}"
    assert not (tmp_path / "out").exists()


def test_a_file_that_is_not_a_checkpoint_or_is_truncated_is_one_line(tiny_ae, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("a text file\n")
    cut = tmp_path / "cut" / "model.pt"
    cut.parent.mkdir()
    cut.write_bytes(tiny_ae.read_bytes()[:3000])
    for model in (tmp_path / "notes.txt", cut, tmp_path / "missing"):
        out = tmp_path / f"out-{model.name}"
        assert main(["export", str(model), "--format", "onnx", "--output-dir", str(out)]) == 1
        line = _error_line(capsys)
        assert str(model) in line and "model.pt" in line
        assert not out.exists()


def test_the_export_extra_missing_names_the_pip_command(tiny_ae, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime raises ImportError
    assert (
        main(["export", str(tiny_ae), "--format", "onnx", "--output-dir", str(tmp_path / "o")]) == 1
    )
    line = _error_line(capsys)
    assert "onnxruntime is missing" in line and "pip install 'hgcal-ae[export]'" in line
    assert not (tmp_path / "o").exists()


def test_no_cxx_compiler_names_what_to_install(tiny_ae, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert (
        main(["export", str(tiny_ae), "--format", "hls4ml", "--output-dir", str(tmp_path / "o")])
        == 1
    )
    line = _error_line(capsys)
    assert "no C++ compiler" in line and "apt-get install g++" in line
    assert not (tmp_path / "o").exists()


def test_help_lists_the_formats(capsys):
    from hgcal_ae.export import FORMATS

    with pytest.raises(SystemExit):
        main(["export", "--help"])
    printed = capsys.readouterr().out
    assert all(f in printed for f in FORMATS)


def test_the_default_output_folder_is_where_the_docs_read_it(tiny_ae, tmp_path, monkeypatch):
    """Without --output-dir the export goes to $OUTPUT_DIR/export/<format>/, the folder
    `hgcal-ae docs` renders the hardware page from."""
    monkeypatch.setenv("OUTPUT_DIR", str(tmp_path))
    assert main(["export", str(tiny_ae), "--format", "weights", "--verify", "5"]) == 0
    assert (tmp_path / "export" / "weights" / "summary.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]
