"""Hand-derived ECON-T edge cases (issue 13): each value below is worked out from the emulator's
code (EMU = github.com/cmantill/ECONT_Emulator, commit 357cfef), named where it is used.
"""

from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.detector.layers import ADC_PER_MIP
from hgcal_ae.study.evaluate import algorithm_outputs
from hgcal_ae.trigger.baselines import (
    hgcroc_input_decoding,
    super_trigger_cells,
    threshold_sum,
    threshold_sum_bits,
)
from hgcal_ae.trigger.formats import TC_4E3M, tc_lsb_mip, to_counts


def test_empty_threshold_sum_is_16_bits() -> None:
    # EMU Formatter.formatThresholdOutput with NTCQ == 0: header (5) + dataType '000' (3)
    # + modSumData (8), nChannelData = AddressMapData = ChargeData = '' -> 16 bits.
    assert threshold_sum_bits(0) == 16
    out = threshold_sum(np.ones((1, 48)), 2, threshold=5.0)
    assert out.bits[0] == 16


def test_centred_quantise_adds_half_an_lsb_to_one_lsb_bins() -> None:
    # EMU Utils/encode.py: encode(5, dropBits=1) -> '0000010' (2); decode(2, droppedBits=1,
    # edge=False) = (2 << 1) + (1 << (0 + 1 - 1)) = 5.
    assert TC_4E3M.quantise([5], lsb=2, centre=True)[0] == 5
    # HD, dropBits=3: 5 counts -> code 0 -> (0 << 3) + (1 << 2) = 4 (the input decoding of 0)
    assert TC_4E3M.quantise([5], lsb=8, centre=True)[0] == 4
    # encode(40, 1) = 20 -> e = 2, m = 2, '0010010'; decode(18, 1, edge=False)
    # = ((2 << 1) + (1 << 4)) << 1 + (1 << (1 + 1 - 1)) = 40 + 2 = 42
    assert TC_4E3M.quantise([40], lsb=2, centre=True)[0] == 42
    # droppedBits = 0: one-count bins stay exact, wider bins get half their width
    np.testing.assert_array_equal(TC_4E3M.quantise([5, 100], centre=True), [5, 100])


@pytest.mark.parametrize("sensor", ["ld8", "hd8"])
@pytest.mark.parametrize("counts", [16, 8 << 14, 245_760])
def test_whole_counts_in_mip_floor_exactly(sensor: str, counts: int) -> None:
    # CALQ counts c = 2**k * n ADC, expressed in MIP as c / 45, must give n 4E3M counts back:
    # 163 840 = 10 << 14 is the start of a 4E3M bin (e = 15, m = 2), 245 760 the largest value
    lsb = tc_lsb_mip(sensor)
    adc = 2 ** {"ld8": 1, "hd8": 3}[sensor] * counts
    q = np.array([adc / ADC_PER_MIP, 10 * 2**14 * 2 ** {"ld8": 1, "hd8": 3}[sensor] / 45.0])
    np.testing.assert_array_equal(to_counts(q, lsb), [counts, 10 * 2**14])
    np.testing.assert_array_equal(
        np.rint(TC_4E3M.quantise(q, lsb=lsb) / lsb), TC_4E3M.quantise([counts, 10 * 2**14])
    )


def test_to_counts_still_floors_fractions() -> None:
    np.testing.assert_array_equal(
        to_counts([0.0, 0.99, 1.0, 2.5, 1e6 + 0.5], 1.0), [0, 0, 1, 2, 1e6]
    )
    np.testing.assert_array_equal(to_counts([3.0 * 0.1], 0.1), [3])  # 0.30000000000000004 / 0.1


@pytest.mark.parametrize(("sensor_lsb", "dropped", "zero_counts"), [(2, 1, 1), (8, 3, 4)])
def test_hgcroc_input_decoding_turns_zero_into_half_an_lsb(
    sensor_lsb: int, dropped: int, zero_counts: int
) -> None:
    # EMU MuxFixCalib.FloatToFix: decode(0, droppedBits=k) = 0 + (1 << (k - 1)) = 1 (LD) / 4 (HD)
    zeros = np.zeros((1, 48))
    np.testing.assert_array_equal(hgcroc_input_decoding(zeros, sensor_lsb), zero_counts)
    # so an empty module's STC 2×2 sums are 4 × that many CALQ counts; 5 STCs at 2 e-links
    kw = {"lsb": sensor_lsb, "dropped_lsbs": dropped, "select": "first"}
    out = super_trigger_cells(zeros, 2, 4, input_decoding=True, **kw)
    assert out.reconstructed.sum() == 5 * 4 * zero_counts
    assert super_trigger_cells(zeros, 2, 4, **kw).reconstructed.sum() == 0


def test_study_baselines_sum_whole_calq_counts() -> None:
    # the study passes the sensor's DropLSB: CALQ 3 + 4 = 7 counts (1/45 MIP each) in one STC
    tc = np.zeros((1, 48))
    tc[0, [0, 1]] = [3 / ADC_PER_MIP, 4 / ADC_PER_MIP]
    outputs = algorithm_outputs(tc, 2, models={}, thresholds=(), lsb=2 / 45, dropped_lsbs=1)
    stc = next(out for out, _ in outputs if out.name == "stc_2x2")
    assert stc.reconstructed.sum() * ADC_PER_MIP == pytest.approx(7)
