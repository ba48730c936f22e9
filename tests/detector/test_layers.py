"""Tests of the CE-E layer stack (physics.md table 1.3)."""

from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.detector import layers
from hgcal_ae.detector.layers import (
    CUW_READINGS,
    MIP_KEV_300UM,
    Z_SOURCES,
    ce_e_stack,
    gev_per_mip,
    odd_layers,
)
from hgcal_ae.errors import ConfigError


def test_default_stack_has_28_layers_numbered_from_1() -> None:
    stack = ce_e_stack()
    assert stack.n_layers == 28
    np.testing.assert_array_equal(stack.layer, np.arange(1, 29))
    for array in (stack.z_mm, stack.x0_cumulative, stack.x0_step, stack.dedx_weight_mev):
        assert array.shape == (28,)
    assert stack.absorber.shape == (28,)
    assert (stack.cuw, stack.z_source) == ("analysis", "g4")


@pytest.mark.parametrize("z_source", Z_SOURCES)
def test_z_strictly_increasing(z_source: str) -> None:
    z = ce_e_stack(z_source=z_source).z_mm
    assert np.all(np.diff(z) > 0)


@pytest.mark.parametrize("z_source", Z_SOURCES)
def test_spacing_within_standard_cassettes_is_8p9_mm(z_source: str) -> None:
    # physics.md 1.3: 8.9 mm within a cassette in both files (cassettes 1-10 are standard)
    z = ce_e_stack(z_source=z_source).z_mm
    np.testing.assert_allclose(z[1:20:2] - z[0:20:2], 8.9, atol=1e-9)


def test_z_columns_at_first_and_last_layer() -> None:
    assert ce_e_stack(z_source="g4").z_mm[[0, -1]].tolist() == [138.6, 538.9]
    assert ce_e_stack(z_source="prompt_reco").z_mm[[0, -1]].tolist() == [133.2, 586.4]


@pytest.mark.parametrize(
    ("cuw", "depth_28"), [("analysis", 27.725), ("W75Cu25", 26.69), ("as_coded", 24.79)]
)
def test_total_depth_per_cuw_reading(cuw: str, depth_28: float) -> None:
    stack = ce_e_stack(cuw=cuw)
    assert stack.x0_cumulative[-1] == pytest.approx(depth_28, abs=1e-12)
    assert np.all(np.diff(stack.x0_cumulative) > 0)
    # the steps add up to the depth
    np.testing.assert_allclose(np.cumsum(stack.x0_step), stack.x0_cumulative, atol=1e-9)


def test_analysis_step_column_matches_the_depth_column() -> None:
    stack = ce_e_stack()
    np.testing.assert_allclose(np.diff(stack.x0_cumulative), stack.x0_step[1:], atol=1.5e-3)
    assert stack.x0_step[0] == pytest.approx(0.943)
    assert stack.x0_step[-1] == pytest.approx(1.285)


def test_geant4_readings_are_shallower_than_the_analysis() -> None:
    analysis = ce_e_stack("analysis").x0_cumulative
    w75 = ce_e_stack("W75Cu25").x0_cumulative
    coded = ce_e_stack("as_coded").x0_cumulative
    assert np.all(coded[1:] < w75[1:])
    assert np.all(w75[2:] < analysis[2:])


def test_absorbers_alternate_pb_and_cuw() -> None:
    absorber = ce_e_stack().absorber
    assert set(absorber[0::2]) == {"Fe+Pb+Fe"}
    assert all("CuW" in a and "Pb" not in a for a in absorber[1::2])
    assert absorber[21] == "Cu+CuW/Cu/CuW+Cu"  # cassettes 11, 12 carry extra Cu


def test_dedx_weights() -> None:
    w = ce_e_stack().dedx_weight_mev
    assert w[0] == pytest.approx(10.199)
    np.testing.assert_allclose(w[1:20], 9.851)
    assert w[-1] == pytest.approx(36.139)  # includes the steel case behind layer 28


def test_gev_per_mip_of_layer_1() -> None:
    assert MIP_KEV_300UM == 84.9
    w1 = ce_e_stack().dedx_weight_mev[0]
    assert gev_per_mip(w1) == pytest.approx(84.9e-6 + 10.199e-3, rel=1e-12)
    assert gev_per_mip(w1) == pytest.approx(0.0102839, rel=1e-9)


def test_gev_per_mip_is_vectorised() -> None:
    weights = ce_e_stack().dedx_weight_mev
    result = gev_per_mip(weights.reshape(4, 7))
    assert result.shape == (4, 7)
    np.testing.assert_allclose(result.ravel(), 84.9e-6 + weights / 1000.0)
    assert gev_per_mip(0.0) == pytest.approx(84.9e-6)


def test_odd_layers() -> None:
    mask = odd_layers()
    assert mask.dtype == bool
    assert mask.sum() == 14
    np.testing.assert_array_equal(np.flatnonzero(mask), np.arange(0, 28, 2))
    stack = ce_e_stack("W75Cu25", "prompt_reco")
    np.testing.assert_array_equal(stack.layer[odd_layers(stack)], np.arange(1, 29, 2))


def test_stack_arrays_are_read_only() -> None:
    stack = ce_e_stack()
    with pytest.raises(ValueError, match="read-only"):
        stack.z_mm[0] = 0.0
    # and the module table is not changed through a stack
    assert ce_e_stack().z_mm[0] == 138.6
    assert layers.N_LAYERS == 28


@pytest.mark.parametrize("bad", ["W60Cu40", "", "Analysis"])
def test_unknown_cuw_reading(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"expected one of 'analysis', 'W75Cu25', 'as_coded'"):
        ce_e_stack(cuw=bad)


def test_unknown_z_source() -> None:
    with pytest.raises(ConfigError, match=r"unknown .*'promptReco'.*'g4', 'prompt_reco'"):
        ce_e_stack(z_source="promptReco")


def test_choice_tuples_list_every_option() -> None:
    for cuw in CUW_READINGS:
        for z_source in Z_SOURCES:
            assert ce_e_stack(cuw, z_source).n_layers == 28
