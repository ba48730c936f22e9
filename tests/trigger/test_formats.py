"""Tests of the ECON-T floating-point encodings."""

from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.errors import ConfigError
from hgcal_ae.trigger.formats import (
    FORMATS,
    STC_4E3M,
    SUM_5E3M,
    SUM_5E4M,
    TC_4E3M,
    FloatFormat,
    decode_float,
    encode_float,
    max_value,
    quantise,
)


def test_named_formats() -> None:
    assert (TC_4E3M.bits, SUM_5E3M.bits, SUM_5E4M.bits, STC_4E3M.bits) == (7, 8, 9, 7)
    assert TC_4E3M.max_value == 15 << 14 == 245_760
    assert SUM_5E3M.max_value == 15 << 30
    assert SUM_5E4M.max_value == 31 << 30
    assert set(FORMATS) == {"TC_4E3M", "SUM_5E3M", "SUM_5E4M", "STC_4E3M"}


@pytest.mark.parametrize("fmt", list(FORMATS.values()), ids=list(FORMATS))
def test_round_trip_every_code(fmt: FloatFormat) -> None:
    codes = np.arange(2**fmt.bits)
    values = fmt.decode(codes)
    np.testing.assert_array_equal(fmt.encode(values), codes)
    assert np.all(np.diff(values) > 0)  # monotonic, one code per value
    assert values[0] == 0
    assert values[-1] == fmt.max_value
    # values are reproduced exactly by quantise
    np.testing.assert_array_equal(quantise(values, fmt), values)


@pytest.mark.parametrize("fmt", list(FORMATS.values()), ids=list(FORMATS))
def test_encode_monotonic_and_truncating(fmt: FloatFormat) -> None:
    v = np.unique(np.concatenate([np.arange(5000), np.geomspace(1, fmt.max_value * 4, 3000)]))
    q = fmt.quantise(v)
    assert np.all(np.diff(fmt.encode(v).astype(np.int64)) >= 0)
    assert np.all(q <= np.floor(v))  # truncation: never above the input
    below = np.floor(v) <= fmt.max_value
    # within one bin: the relative loss is below 2**-M
    assert np.all(np.floor(v[below]) - q[below] < np.maximum(1, q[below] * 2.0**-fmt.mantissa_bits))


def test_4e3m_known_values() -> None:
    exact = np.arange(16)
    np.testing.assert_array_equal(TC_4E3M.quantise(exact), exact)
    np.testing.assert_array_equal(TC_4E3M.encode(exact), exact)  # e = 0 and e = 1: code = value
    # 16..19: exponent 2, one bit dropped
    np.testing.assert_array_equal(TC_4E3M.encode([16, 17, 18, 19]), [16, 16, 17, 17])
    np.testing.assert_array_equal(TC_4E3M.quantise([16, 17, 18, 19]), [16, 16, 18, 18])
    # 100 = 0b1100100: e = 4, m = 0b100, value 12 << 3 = 96, bin [96, 104)
    assert TC_4E3M.encode([100])[0] == (4 << 3) | 4
    assert TC_4E3M.decode([36])[0] == 96
    assert TC_4E3M.decode([36], centre=True)[0] == 100
    assert TC_4E3M.decode([8], centre=True)[0] == 8  # one-count bins are exact
    # large value: 200 000 = 0b110000110101000000 (18 bits): e = 15, m = 0b100
    assert TC_4E3M.encode([200_000])[0] == (15 << 3) | 4
    assert TC_4E3M.quantise([200_000])[0] == 12 << 14


def test_saturation() -> None:
    top = TC_4E3M.max_value
    np.testing.assert_array_equal(TC_4E3M.encode([top, top + 1, 1e12, np.inf]), [127] * 4)
    np.testing.assert_array_equal(TC_4E3M.quantise([top + 1, 1e12]), [top, top])
    assert SUM_5E4M.encode([2.0**40])[0] == 2**9 - 1


def test_encode_floors_fractional_counts() -> None:
    np.testing.assert_array_equal(TC_4E3M.encode([0.2, 3.9, 7.999]), [0, 3, 7])


def test_generic_functions_match_methods() -> None:
    v = np.arange(0, 100_000, 37)
    np.testing.assert_array_equal(encode_float(v, 5, 4), SUM_5E4M.encode(v))
    np.testing.assert_array_equal(decode_float(SUM_5E4M.encode(v), 5, 4), SUM_5E4M.quantise(v))
    assert max_value(4, 3) == TC_4E3M.max_value
    assert encode_float(np.zeros((2, 3)), 4, 3).shape == (2, 3)


def test_quantise_with_lsb() -> None:
    # MIP_T charges on a 1/4 MIP_T step: 2.3 MIP_T = 9.2 counts -> 9 counts -> 2.25 MIP_T
    assert quantise([2.3], TC_4E3M, lsb=0.25)[0] == pytest.approx(2.25)
    # 40 MIP_T = 160 counts (e = 5, bin width 16) -> 160 exactly; 41 -> 164 counts -> 160
    np.testing.assert_allclose(TC_4E3M.quantise([40.0, 41.0], lsb=0.25), [40.0, 40.0])
    with pytest.raises(ConfigError, match="lsb"):
        quantise([1.0], TC_4E3M, lsb=0)


@pytest.mark.parametrize(
    ("values", "match"), [([-1.0], "non-negative"), ([np.nan], "NaN")], ids=["negative", "nan"]
)
def test_bad_values(values: list[float], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        TC_4E3M.encode(values)


def test_bad_codes_and_widths() -> None:
    with pytest.raises(ConfigError, match=r"codes in \[0, 127\]"):
        TC_4E3M.decode([128])
    with pytest.raises(ConfigError, match="integer codes"):
        TC_4E3M.decode([1.5])
    with pytest.raises(ConfigError, match="exponent bits"):
        FloatFormat("too wide", 6, 3)
    with pytest.raises(ConfigError, match="mantissa_bits"):
        FloatFormat("no mantissa", 4, 0)
