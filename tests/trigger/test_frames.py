"""Hand-derived ECON-T frames (issue 13): each expected bit string is worked out field by field
from the emulator's Formatter (EMU = github.com/cmantill/ECONT_Emulator, commit 357cfef,
ASICBlocks/Formatter.py and Utils/encode.py); ``test_emulator_frames`` runs the emulator's
own code on random modules where its mirror is present.
"""

from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.detector.layers import ADC_PER_MIP
from hgcal_ae.errors import ConfigError
from hgcal_ae.trigger.baselines import (
    _STC_MEMBERS,
    best_choice,
    repeater,
    super_trigger_cells,
    threshold_sum,
)
from hgcal_ae.trigger.frames import (
    MUX_INDEX,
    MUX_ORDER,
    autoencoder_frame,
    bx_header,
    field,
    pack,
)


def module(values_by_mux: dict[int, float]) -> np.ndarray:
    """One module (1, 48) by TC id, given charges at MUX indices."""
    tc = np.zeros((1, 48))
    for mux, value in values_by_mux.items():
        tc[0, MUX_ORDER[mux]] = value
    return tc


def test_mux_order_is_the_stc_grouping() -> None:
    np.testing.assert_array_equal(MUX_ORDER, _STC_MEMBERS[4].ravel())
    np.testing.assert_array_equal(MUX_INDEX[MUX_ORDER], np.arange(48))
    # a rhombus is 16 consecutive MUX indices (the STC16 groups)
    np.testing.assert_array_equal(np.sort(MUX_ORDER.reshape(3, 16), axis=1), _STC_MEMBERS[16])


def test_bx_header_drops_the_second_bit_at_4_bits() -> None:
    # EMU: header = format(22, '05b') = '10110'; BC/STC send header[0] + header[2:] = '1110'
    assert bx_header(22, 5, 1)[0] == 0b10110
    assert bx_header(22, 4, 1)[0] == 0b1110
    with pytest.raises(ConfigError, match="4 or 5 bits"):
        bx_header(0, 3, 1)


def test_empty_threshold_sum_frame() -> None:
    # formatThresholdOutput, NTCQ = 0: header '10110' (BX 22) + type '000' + 5E3M sum of the
    # 48 one-count TCs: 48 = 0b110000 -> e = 3, m = (48 >> 2) & 7 = 4 -> code 28 '00011100'
    out = threshold_sum(np.ones((1, 48)), 2, threshold=5.0)
    frame = out.frame(22)
    assert frame.strings() == ["10110" + "000" + "00011100"]
    assert frame.length[0] == out.bits[0] == 16
    assert frame.fields == ("header", "type", "module_sum", "count", "address", "map", "code")


def test_threshold_sum_frame_with_two_tcs() -> None:
    # MUX 3 and 40 pass (charges 20 and 9 >= 8): type '010', sum 29 = 0b11101 -> e = 2,
    # m = (29 >> 1) & 7 = 6 -> code 22 '00010110'; count '010'; addresses '000011' '101000';
    # codes: 20 = 0b10100 -> e = 2, m = 2 -> '0010010'; 9 -> e = 1, m = 1 -> '0001001'
    tc = module({3: 20, 40: 9})
    frame = threshold_sum(tc, 2, threshold=8.0).frame(0)
    want = "00000" + "010" + "00010110" + "010" + "000011" + "101000" + "0010010" + "0001001"
    assert len(want) == 16 + 3 + 12 + 14 == 45
    assert frame.strings(padded=False) == [want]
    assert frame.strings() == [want + "000"]  # padded to 48 = 3 × 16


def test_best_choice_three_way_tie_at_the_cut() -> None:
    # 2 e-links: 4 TCs.  MUX 45, 46, 47 hold 100, 90, 80; MUX 10, 12 and 14 tie at 50 for the
    # fourth place.  The emulator's network (bestchoice.sorter on this input) keeps MUX 12,
    # neither the lowest (10) nor the highest (14) index.  Frame: header '0000', 5E3M of
    # 150 + 270 = 420 = 0b110100100 -> e = 6, m = 5 -> '00110101'; addresses 12, 45, 46, 47;
    # codes 50 -> e = 3, m = 4 '0011100'; 100 -> '0100100'; 90 -> '0100011'; 80 -> '0100010'
    tc = module({10: 50, 12: 50, 14: 50, 45: 100, 46: 90, 47: 80})
    out = best_choice(tc, 2)
    want = ("0000" + "00110101" + "001100" + "101101" + "101110" + "101111"
            + "0011100" + "0100100" + "0100011" + "0100010")  # fmt: skip
    assert out.frame(0).strings() == [want]
    assert out.bits[0] == len(want) == 64
    assert out.reconstructed[0, MUX_ORDER[12]] == 48  # code 28 decodes to (8 + 4) << 2
    assert out.reconstructed[0, MUX_ORDER[[10, 14]]].sum() == 0
    # the earlier rule keeps the lowest TC id among the tied ones
    lowest = best_choice(tc, 2, ties="lowest_id").reconstructed[0]
    tied = MUX_ORDER[[10, 12, 14]]
    assert lowest[tied.min()] == 48
    assert np.count_nonzero(lowest[tied]) == 1


def test_stc_equal_maxima_go_to_the_highest_in_group_index() -> None:
    # STC 0 = MUX 0..3 with counts 7, 9, 9, 2: the emulator's index is
    # 3 - argmax(flip([7, 9, 9, 2])) = 2 -> address '10'; STC 1 (all 0): 3 -> '11'.
    # Sums 27 = 0b11011 -> 5E4M e = 1, m = 0b1011 -> '000011011', and 0.  1 e-link sends the
    # first 2 STCs: '0000' + '10' '11' + sums = 26 bits, padded to 32.
    tc = module({0: 7, 1: 9, 2: 9, 3: 2})
    out = super_trigger_cells(tc, 1, 4, select="first")
    want = "0000" + "10" + "11" + "000011011" + "000000000"
    assert out.frame(0).strings() == [want + "000000"]
    assert out.bits[0] == 26
    assert out.reconstructed[0, MUX_ORDER[2]] == 27  # the sum sits on MUX 2 (TC 4)
    # the earlier rule: the lowest TC id among the maxima, MUX 1 (TC 1); STC 1: MUX 4 -> '00'
    old = super_trigger_cells(tc, 1, 4, select="first", ties="lowest_id")
    assert old.frame(0).strings() == ["0000" + "01" + "00" + "000011011" + "000000000" + "000000"]
    assert old.reconstructed[0, MUX_ORDER[1]] == 27


def test_stc_sums_keep_one_count_resolution() -> None:
    # LD, DropLSB = 1: CALQ 3 + 4 = 7 counts; the 5E4M sum of whole CALQ counts is 7 (EMU
    # sums before dropping LSBs), where flooring to the 2-count lsb gave 6.
    tc = module({0: 3 / ADC_PER_MIP, 1: 4 / ADC_PER_MIP})
    lsb = 2 / ADC_PER_MIP
    out = super_trigger_cells(tc, 2, 4, select="first", lsb=lsb, dropped_lsbs=1)
    assert out.reconstructed.sum() * ADC_PER_MIP == pytest.approx(7)
    assert out.frame(0).strings()[0][4 + 10 : 4 + 10 + 9] == "000000111"


def test_exponent_boundary_in_counts_repeater_frame() -> None:
    # HD (DropLSB = 3): CALQ 8 × 245 760 given in MIP is 4E3M 245 760 = 15 << 14, code
    # e = 15, m = 7 -> '1111111'; one CALQ below it is 245 759 -> '1111110'.  MUX 0 is TC 0.
    lsb = 8 / ADC_PER_MIP
    tc = np.zeros((2, 48))
    tc[:, 0] = [8 * 245_760 / ADC_PER_MIP, (8 * 245_760 - 8) / ADC_PER_MIP]
    frames = repeater(tc, 11, lsb=lsb, dropped_lsbs=3).frame(0).strings()
    assert [f[5:12] for f in frames] == ["1111111", "1111110"]
    assert all(len(f) == 352 and f[12:] == "0" * 340 for f in frames)


def test_bits_are_the_frame_lengths(rng: np.random.Generator) -> None:
    tc = np.floor(rng.exponential(4.0, (60, 48))) * (rng.random((60, 48)) < 0.6)
    for n in (1, 2, 3, 5, 9):
        for out in (
            threshold_sum(tc, n, 3.0), best_choice(tc, n), repeater(tc, n),
            super_trigger_cells(tc, n, 4), super_trigger_cells(tc, n, 16),
        ):  # fmt: skip
            frame = out.frame(rng.integers(0, 32, 60))
            np.testing.assert_array_equal(frame.length, out.bits)
            assert np.all(frame.padded_length % frame.word_bits == 0)
            ones = frame.bits.sum(axis=1)
            assert np.all(ones <= frame.length)  # padding is zeros


def test_pack_variable_items_and_checks() -> None:
    present = np.array([[True, False, True], [False, False, False]])
    frame = pack(
        "demo", [field("a", 2, [1, 2], n=2), field("b", 3, [[1, 2, 7]] * 2, present, n=2)], 8
    )
    assert frame.strings(padded=False) == ["01" + "001" + "111", "10"]
    assert frame.strings() == ["01001111", "10000000"]
    with pytest.raises(ConfigError, match=r"\[0, 2\*\*2\)"):
        field("a", 2, [4], n=1)


def test_autoencoder_frame_layout() -> None:
    # 1 e-link: 5-bit BX + 9-bit sum + 18 latent bits = 32; 16 × 1-bit latents leave 2 zero
    # bits on the left of the latent data (EMU pads AE_Data with '0' on the left)
    latent = np.array([[1, 0] * 8])
    frame = autoencoder_frame(latent, 1, [0b100000001], 1, bx=3)
    assert frame.strings() == ["00011" + "100000001" + "00" + "10" * 8]
    # 2 e-links: 50 latent bits, 64 in all (econt.md §1)
    assert autoencoder_frame(np.zeros((1, 16), int), 3, [0], 2).length[0] == 64
    with pytest.raises(ConfigError, match="does not fit"):
        autoencoder_frame(np.zeros((1, 16), int), 4, [0], 2)
