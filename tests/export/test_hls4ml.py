"""The hls4ml project: one g++ compile in the default run (a session fixture, through the CLI);
the negative check (hls4ml's default truncation and wrap) compiles again and is marked slow
(``make test-all``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hgcal_ae.cli import main
from hgcal_ae.export.hls import (
    PROJECT_NAME,
    encoder_resources,
    export_hls4ml,
    fixed_point_types,
    verify_hls4ml,
)
from hgcal_ae.models.module_ae import ModuleAEConfig, ModuleAutoencoder


@pytest.fixture(scope="session")
def hls_export(tiny_ae, tmp_path_factory):
    """``hgcal-ae export MODEL --format hls4ml --verify 3000``: its output folder."""
    out = tmp_path_factory.mktemp("hls-export")
    assert main(["export", str(tiny_ae), "--format", "hls4ml", "--output-dir", str(out), "--verify", "3000"]) == 0  # fmt: skip
    return out / "hls4ml"


def test_the_compiled_emulation_makes_pytorchs_codes(hls_export):
    summary = json.loads((hls_export / "summary.json").read_text())
    check = summary["verification"]
    assert check["modules"] == 3000 and check["codes_differing"] == 0 and check["passed"]
    assert summary["backend"] == "Vitis" and summary["io_type"] == "io_parallel"
    project = hls_export / "project"
    assert (project / "firmware" / f"{PROJECT_NAME}.cpp").is_file()
    assert (project / "build_prj.tcl").is_file()
    assert list((project / "firmware").glob(f"{PROJECT_NAME}-*.so")), "the g++ build"
    # the C-simulation test vectors: the first 1000 verification modules and PyTorch's latent
    inputs = np.loadtxt(project / "tb_data" / "tb_input_features.dat")
    latent = np.loadtxt(project / "tb_data" / "tb_output_predictions.dat")
    assert inputs.shape == (1000, 64) and latent.shape == (1000, 4)
    assert np.array_equal(latent * 16, np.round(latent * 16))  # codes · 1/16


def test_the_types_are_derived_from_the_model(hls_export, tiny_ae):
    types = json.loads((hls_export / "summary.json").read_text())["fixed_point_types"]
    assert types == fixed_point_types(tiny_ae).as_dict()
    assert types["input"] == "ufixed<10,2>"  # 8 fractional bits, values up to 2.0
    assert types["conv_weight"] == types["dense_weight"] == "fixed<6,1>"  # the 6-bit weights
    assert types["latent"] == "ufixed<5,1,RND_CONV,SAT>" and types["exact"]
    hpp = (hls_export / "project" / "firmware" / "parameters.h").read_text()
    hpp += (hls_export / "project" / "firmware" / "defines.h").read_text()
    assert "ap_ufixed<5,1,AP_RND_CONV,AP_SAT" in hpp  # the latent type in the C++


def test_resources_of_the_published_encoder():
    model = ModuleAutoencoder(ModuleAEConfig(quantised_weights=True))
    assert encoder_resources(model) == {
        "parameters": 2144, "conv_multiplications": 1152, "dense_multiplications": 2048,
        "multiplications": 3200,
    }  # fmt: skip
    float_types = fixed_point_types(ModuleAutoencoder(ModuleAEConfig()))
    assert not float_types.exact  # float weights do not fit a fixed-point type exactly


@pytest.mark.slow
def test_with_hls4mls_default_truncation_and_wrap_the_check_fails(tiny_ae, images, tmp_path):
    types = fixed_point_types(tiny_ae, rounding="TRN", overflow="WRAP")
    assert types.latent == "ufixed<5,1,TRN,WRAP>"
    check = verify_hls4ml(tiny_ae, export_hls4ml(tiny_ae, tmp_path, types), images)
    assert not check["exact"] and check["codes_differing"] > len(images)


def test_the_hardware_page_renders_from_the_export(hls_export, tmp_path):
    """docs/hardware.md's block reads every field it needs from a real export's summary."""
    from hgcal_ae.study.pages import RunSource, plan_pages

    page = tmp_path / "docs" / "hardware.md"
    (tmp_path / "docs" / "images").mkdir(parents=True)
    page.write_text("<!-- begin generated: hardware-verification -->\n"
                    "<!-- end generated: hardware-verification -->\n")  # fmt: skip
    source = RunSource(hls_export / "summary.json", "export/hls4ml/summary.json", "cmd")
    plan = plan_pages([page], {"export": source}, tmp_path / "docs" / "images", tmp_path)
    text = plan.pages[page][1]
    summary = json.loads((hls_export / "summary.json").read_text())
    mults = summary["resources"]["multiplications"]
    assert "| hls4ml | 3,000 | 0 of 12,000 | 0 | – | yes |" in text
    assert f"| multiplications per inference | {mults:,}: " in text
    assert "| onnx | not exported |" in text
