"""Tests of the bandwidth model, its CSV table and its plot."""

from __future__ import annotations

import csv
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from hgcal_ae.errors import ConfigError
from hgcal_ae.plots.bandwidth import bandwidth_plot
from hgcal_ae.trigger.bandwidth import (
    COLUMNS,
    ELINK_GBPS,
    BandwidthEntry,
    autoencoder_entry,
    bandwidth_table,
    elinks_needed,
    rate_gbps,
    standard_entries,
    write_table_csv,
)
from hgcal_ae.trigger.baselines import best_choice, repeater, threshold_sum

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def tc(rng: np.random.Generator) -> np.ndarray:
    return np.floor(rng.exponential(4.0, (300, 48)))


def test_units() -> None:
    assert pytest.approx(1.28) == ELINK_GBPS
    np.testing.assert_array_equal(elinks_needed([0, 1, 32, 33, 64, 341]), [0, 1, 1, 2, 2, 11])
    assert rate_gbps(64) == pytest.approx(2.56)


def test_fixed_rows(tc: np.ndarray) -> None:
    rows = bandwidth_table([best_choice(tc, 2), repeater(tc, 11)], n_modules=1000)
    assert [r["statistic"] for r in rows] == ["fixed", "fixed"]
    bc, rpt = rows
    assert (bc["algorithm"], bc["setting"], bc["bits"], bc["elinks"]) == (
        "best_choice",
        "2 e-links, table=emu",
        64,
        2,
    )
    assert bc["rate_gbps_per_module"] == pytest.approx(2.56)
    assert bc["rate_tbps_total"] == pytest.approx(2.56)  # 1000 × 2.56 Gb/s
    assert (rpt["bits"], rpt["elinks"]) == (341, 11)
    assert rpt["rate_gbps_per_module"] == pytest.approx(13.64)
    assert set(bc) == set(COLUMNS)


def test_variable_rows_mean_and_p99(tc: np.ndarray) -> None:
    out = threshold_sum(tc, 5, threshold=4.0)
    rows = bandwidth_table([out], n_modules=10)
    assert [r["statistic"] for r in rows] == ["mean", "p99"]
    assert rows[0]["bits"] == pytest.approx(out.bits.mean())
    assert rows[1]["bits"] in out.bits  # an observed module's length
    assert np.mean(out.bits <= rows[1]["bits"]) >= 0.99
    assert rows[1]["elinks"] == int(np.ceil(rows[1]["bits"] / 32))


def test_autoencoder_entries() -> None:
    rows = bandwidth_table(
        [autoencoder_entry(16, b, n) for n, b in ((2, 3), (3, 5), (4, 7), (5, 9))], n_modules=1
    )
    assert [r["bits"] for r in rows] == [62, 94, 126, 158]
    assert [r["elinks"] for r in rows] == [2, 3, 4, 5]
    with pytest.raises(ConfigError, match="does not fit 2 e-links"):
        autoencoder_entry(16, 9, 2)


def test_standard_entries(tc: np.ndarray) -> None:
    entries = standard_entries(tc, thresholds=(2.0,))
    algorithms = {e.algorithm for e in entries}
    assert algorithms == {
        "best_choice",
        "stc_2x2",
        "stc_4x4",
        "autoencoder",
        "threshold_sum",
        "repeater",
    }
    assert sum(e.algorithm == "autoencoder" for e in entries) == 4


def test_n_modules_is_required_and_checked(tc: np.ndarray) -> None:
    with pytest.raises(ConfigError, match="n_modules"):
        bandwidth_table([best_choice(tc, 2)], n_modules=0)
    with pytest.raises(ConfigError, match="no bits"):
        bandwidth_table([BandwidthEntry("x", "y", np.array([]))], n_modules=5)


def test_csv(tmp_path: Path, tc: np.ndarray) -> None:
    rows = bandwidth_table(standard_entries(tc, thresholds=(2.0,)), n_modules=100)
    out = write_table_csv(rows, tmp_path / "sub" / "bandwidth.csv")
    assert out == tmp_path / "sub" / "bandwidth.csv"
    with out.open(newline="") as handle:
        read = list(csv.DictReader(handle))
    assert len(read) == len(rows)
    assert tuple(read[0]) == COLUMNS
    assert float(read[0]["bits"]) == rows[0]["bits"]
    assert not list(out.parent.glob(".tmp-*"))
    with pytest.raises(ConfigError, match="at least one"):
        write_table_csv([], tmp_path / "empty.csv")
    with pytest.raises(ConfigError, match="lacks columns"):
        write_table_csv([{"algorithm": "x"}], tmp_path / "bad.csv")
    assert not (tmp_path / "bad.csv").exists()


def test_plot_png(tmp_path: Path, tc: np.ndarray) -> None:
    rows = bandwidth_table(standard_entries(tc, thresholds=(2.0,)), n_modules=100)
    out = bandwidth_plot(rows, tmp_path / "bandwidth.png")
    assert out.read_bytes()[:8] == PNG_SIGNATURE
    pixels = iio.imread(out)
    assert pixels.shape[:2] == (round(100 * (1.8 + 0.3 * len(rows))), 900)
    assert not list(tmp_path.glob(".tmp-*"))


def test_plot_rejects_bad_rows(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least one"):
        bandwidth_plot([], tmp_path / "x.png")
    with pytest.raises(ConfigError, match="numeric bits"):
        bandwidth_plot([{"algorithm": "a", "setting": "s"}], tmp_path / "x.png")
    with pytest.raises(ConfigError, match="elink_bits"):
        bandwidth_plot(
            [{"algorithm": "a", "setting": "s", "bits": 3}], tmp_path / "x.png", elink_bits=0
        )
    assert not (tmp_path / "x.png").exists()
