"""Tests of the ECON-T baseline algorithms and the autoencoder bit budget."""

from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.errors import ConfigError
from hgcal_ae.trigger.autoencoder_budget import (
    autoencoder_bits,
    autoencoder_frame_bits,
    autoencoder_latent_bits_available,
    check_autoencoder_fits,
)
from hgcal_ae.trigger.baselines import (
    ALGORITHMS,
    AlgorithmOutput,
    best_choice,
    best_choice_bits,
    best_choice_n_tc,
    repeater,
    run_algorithm,
    super_trigger_cell_sums,
    super_trigger_cells,
    threshold_sum,
    threshold_sum_bits,
)
from hgcal_ae.trigger.formats import SUM_5E4M, TC_4E3M


@pytest.fixture
def tc(rng: np.random.Generator) -> np.ndarray:
    """200 modules of integer charges, a few large TCs on a low-level background."""
    charges = np.floor(rng.exponential(3.0, (200, 48)))
    charges[:, rng.integers(0, 48, 3)] += rng.integers(50, 5000, (200, 3))
    return charges


def modules_with_passing(counts: list[int], threshold: float = 10.0) -> np.ndarray:
    """One module per count, with that many distinct TCs above ``threshold``, rest below."""
    out = np.zeros((len(counts), 48))
    for i, k in enumerate(counts):
        out[i, :] = 1.0
        out[i, 47 - np.arange(k)] = 20.0 + np.arange(k)  # TC 47 - j gets 20 + j
    return out


def test_threshold_sum_bits_by_hand() -> None:
    # 16 header bits (5 BX + 3 type + 8 sum), 3-bit count + 6-bit address for 1-7 TCs,
    # else a 48-bit map; 7 bits per TC; no TC passing: the header alone (EMU type 000)
    assert threshold_sum_bits(0) == 16
    assert threshold_sum_bits(5) == 16 + 3 + 5 * 6 + 5 * 7  # 84
    assert threshold_sum_bits(8) == 16 + 48 + 8 * 7  # 120
    assert threshold_sum_bits(20) == 16 + 48 + 20 * 7  # 204
    out = threshold_sum(modules_with_passing([0, 5, 8, 20]), 14, threshold=10.0)
    np.testing.assert_array_equal(out.bits, [16, 84, 120, 204])
    assert out.fits.all()
    np.testing.assert_array_equal((out.reconstructed > 0).sum(axis=1), [0, 5, 8, 20])


def test_threshold_sum_truncates_to_largest() -> None:
    # 3 e-links = 96 bits: 5 TCs need 84 bits, 6 need 97, so 5 are kept
    tcs = modules_with_passing([20, 3])
    out = threshold_sum(tcs, 3, threshold=10.0)
    np.testing.assert_array_equal(out.bits, [204, 16 + 3 + 3 * 13])
    np.testing.assert_array_equal(out.fits, [False, True])
    kept = np.flatnonzero(out.reconstructed[0])
    np.testing.assert_array_equal(kept, [28, 29, 30, 31, 32])  # the 5 largest (39..35)
    np.testing.assert_array_equal(out.reconstructed[0, kept], TC_4E3M.quantise(tcs[0, kept]))


def test_threshold_keeps_charge_at_threshold(tc: np.ndarray) -> None:
    out = threshold_sum(tc, 14, threshold=2.0)
    passing = tc >= 2.0
    np.testing.assert_array_equal(out.bits, threshold_sum_bits(passing.sum(axis=1)))
    np.testing.assert_array_equal(out.reconstructed, np.where(passing, TC_4E3M.quantise(tc), 0))


@pytest.mark.parametrize(
    ("n_elinks", "n_tc", "bits"), [(1, 1, 25), (2, 4, 64), (3, 6, 90), (4, 9, 123), (5, 14, 158)]
)
def test_best_choice_sizes(n_elinks: int, n_tc: int, bits: int) -> None:
    assert best_choice_n_tc(n_elinks) == n_tc
    assert best_choice_bits(n_tc) == bits
    assert bits <= 32 * n_elinks


def test_best_choice_keeps_n_largest(tc: np.ndarray) -> None:
    out = best_choice(tc, 2)
    assert isinstance(out, AlgorithmOutput)
    assert out.reconstructed.shape == tc.shape
    np.testing.assert_array_equal(out.bits, 64)  # 4 + 8 + 4 × (6 + 7)
    assert out.fits.all()
    top4 = np.sort(tc, axis=1)[:, -4:]
    kept = np.sort(np.where(out.reconstructed > 0, tc, 0), axis=1)[:, -4:]
    np.testing.assert_array_equal(kept, top4)
    assert best_choice(tc, 3).bits[0] == 4 + 8 + 6 * 13 == 90


def test_best_choice_ties_by_index_and_cmssw_table() -> None:
    tcs = np.full((1, 48), 5.0)
    out = best_choice(tcs, 2, ties="lowest_id")
    np.testing.assert_array_equal(np.flatnonzero(out.reconstructed[0]), [0, 1, 2, 3])
    # hardware: all equal, the network exchanges nothing: MUX indices 0-3 = TCs 0, 1, 4, 5
    out = best_choice(tcs, 2)
    np.testing.assert_array_equal(np.flatnonzero(out.reconstructed[0]), [0, 1, 4, 5])
    assert best_choice_n_tc(2, "cmssw") == 3
    assert best_choice(tcs, 2, table="cmssw").bits[0] == 12 + 3 * 13
    assert best_choice_n_tc(14) == 48
    with pytest.raises(ConfigError, match=r"1\.\.12"):
        best_choice_n_tc(13, "cmssw")
    with pytest.raises(ConfigError, match="table"):
        best_choice(tcs, 2, table="nope")


@pytest.mark.parametrize("size", [4, 16])
def test_stc_sums_conserve_total(tc: np.ndarray, size: int) -> None:
    sums, max_tc = super_trigger_cell_sums(tc, size)
    assert sums.shape == (200, 48 // size)
    np.testing.assert_allclose(sums.sum(axis=1), tc.sum(axis=1))
    np.testing.assert_array_equal(
        np.take_along_axis(tc, max_tc, axis=1).max(axis=1), tc.max(axis=1)
    )


def test_stc4_groups_are_2x2_blocks() -> None:
    tcs = np.zeros((1, 48))
    tcs[0, [16 + 4 * 2 + 2, 16 + 4 * 3 + 3]] = [7.0, 9.0]  # rhombus 1, rows 2-3, cols 2-3
    sums, max_tc = super_trigger_cell_sums(tcs, 4)
    assert sums[0, 4 + 3] == 16.0  # STC 4·1 + 2·1 + 1
    assert max_tc[0, 7] == 16 + 15


@pytest.mark.parametrize(
    ("n_elinks", "bits"), [(1, 4 + 2 * 11), (2, 59), (3, 92), (4, 125), (5, 136)]
)
def test_stc4_bits(tc: np.ndarray, n_elinks: int, bits: int) -> None:
    out = super_trigger_cells(tc, n_elinks, 4)
    np.testing.assert_array_equal(out.bits, bits)
    assert out.fits.all()


def test_stc_reconstruction_on_max_tc(tc: np.ndarray) -> None:
    out = super_trigger_cells(tc, 2, 16)
    assert out.bits[0] == 4 + 3 * (4 + 9)
    sums, max_tc = super_trigger_cell_sums(tc, 16)
    np.testing.assert_array_equal(
        np.take_along_axis(out.reconstructed, max_tc, axis=1), SUM_5E4M.quantise(sums)
    )
    assert np.count_nonzero(out.reconstructed, axis=1).max() <= 3
    uniform = super_trigger_cells(tc, 2, 16, spread="uniform")
    np.testing.assert_allclose(
        uniform.reconstructed.sum(axis=1), SUM_5E4M.quantise(sums).sum(axis=1)
    )


def test_stc_sends_the_largest_or_the_first() -> None:
    # STC k = 4·rhombus + 2·(row // 2) + col // 2 gets charge k + 1 on its top-left TC
    k = np.arange(12)
    tcs = np.zeros((1, 48))
    tcs[0, 16 * (k // 4) + 8 * ((k % 4) // 2) + 2 * (k % 2)] = k + 1.0
    np.testing.assert_array_equal(super_trigger_cell_sums(tcs, 4)[0][0], k + 1.0)
    largest = super_trigger_cells(tcs, 2, 4)  # 5 STCs
    np.testing.assert_array_equal(
        np.sort(largest.reconstructed[0][largest.reconstructed[0] > 0]), [8, 9, 10, 11, 12]
    )
    first = super_trigger_cells(tcs, 2, 4, select="first")
    np.testing.assert_array_equal(
        np.sort(first.reconstructed[0][first.reconstructed[0] > 0]), [1, 2, 3, 4, 5]
    )


def test_repeater(tc: np.ndarray) -> None:
    out = repeater(tc, 10)
    np.testing.assert_array_equal(out.bits, 341)
    assert not out.fits.any()
    assert repeater(tc, 11).fits.all()
    np.testing.assert_array_equal(out.reconstructed, TC_4E3M.quantise(tc))


def test_lsb_scales_reconstruction(tc: np.ndarray) -> None:
    mipt = tc / 35.0
    out = best_choice(mipt, 2, lsb=1 / 35)
    assert np.all(out.reconstructed <= mipt + 1e-12)
    np.testing.assert_allclose(
        out.reconstructed.sum(axis=1), best_choice(tc, 2).reconstructed.sum(axis=1) / 35, rtol=0.02
    )


def test_run_algorithm_registry(tc: np.ndarray) -> None:
    assert set(ALGORITHMS) == {"threshold_sum", "best_choice", "super_trigger_cells", "repeater"}
    out = run_algorithm("super_trigger_cells", tc, 3, size=16)
    assert out.name == "stc_4x4" and out.label == "STC 4×4"
    assert run_algorithm("threshold_sum", tc, 2, threshold=2.0).n_elinks == 2
    with pytest.raises(ConfigError, match="best_choice, super_trigger_cells"):
        run_algorithm("autoencoder", tc, 2)
    with pytest.raises(ConfigError, match="threshold"):
        run_algorithm("threshold_sum", tc, 2)
    with pytest.raises(ConfigError, match="options"):
        run_algorithm("repeater", tc, 2, size=4)


@pytest.mark.parametrize("n_elinks", [0, 15, 2.5, True, "2"])
def test_bad_elinks(tc: np.ndarray, n_elinks: object) -> None:
    with pytest.raises(ConfigError, match=r"n_elinks to be an integer in 1\.\.14"):
        best_choice(tc, n_elinks)  # type: ignore[arg-type]


def test_bad_tc() -> None:
    with pytest.raises(ConfigError, match=r"shape \(N, 48\)"):
        repeater(np.zeros((3, 47)), 11)
    with pytest.raises(ConfigError, match="non-negative"):
        repeater(-np.ones((1, 48)), 11)
    with pytest.raises(ConfigError, match="size"):
        super_trigger_cells(np.zeros((1, 48)), 2, size=8)


@pytest.mark.parametrize(
    ("n_elinks", "latent_bits", "frame"), [(2, 3, 64), (3, 5, 96), (4, 7, 128), (5, 9, 160)]
)
def test_autoencoder_budget(n_elinks: int, latent_bits: int, frame: int) -> None:
    assert autoencoder_frame_bits(n_elinks) == frame == 32 * n_elinks
    assert autoencoder_latent_bits_available(n_elinks) == frame - 14
    assert check_autoencoder_fits(16, latent_bits, n_elinks) == autoencoder_bits(16, latent_bits)
    assert autoencoder_bits(16, latent_bits) <= frame


def test_autoencoder_cap_and_rejection() -> None:
    assert autoencoder_latent_bits_available(1) == 18
    assert autoencoder_latent_bits_available(14) == 146
    with pytest.raises(
        ConfigError,
        match=r"latent 16 × 9 bits = 144 bits does not fit 2 e-links \(50 latent bits.*at most 3 bits.*5 e-links",
    ):
        check_autoencoder_fits(16, 9, 2)
    with pytest.raises(ConfigError, match="no setting carries more than 146"):
        check_autoencoder_fits(32, 5, 14)
    with pytest.raises(ConfigError, match="latent_dim"):
        autoencoder_bits(0, 3)
