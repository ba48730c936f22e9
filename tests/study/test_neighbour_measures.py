"""The neighbour study's measures on synthetic decodings: a perfect one, and a shifted one."""

from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.datasets.module_rows import ModuleRows
from hgcal_ae.detector.setups import detector_setup
from hgcal_ae.study.neighbour_measures import SHOWER_CLASSES, neighbour_measures
from hgcal_ae.trigger.neighbours import layer_split


@pytest.fixture
def rows(rng: np.random.Generator) -> ModuleRows:
    """20 events of 5 layers x 7 modules, every row with charge."""
    event, layer, module = (a.ravel() for a in np.meshgrid(
        np.arange(20), np.arange(1, 6), np.arange(7), indexing="ij"
    ))  # fmt: skip
    tc = rng.exponential(3.0, size=(event.size, 48)) + 0.01
    return ModuleRows.build(event=event, layer=layer, module=module, tc=tc, n_events=20)


def test_perfect_decoding_measures_zero(rows: ModuleRows) -> None:
    test = np.arange(0, rows.n_rows, 2)
    reference = np.asarray(rows.tc, dtype=np.float64)[test]
    decoded = {"alone": reference.copy(), "with_neighbours": reference.copy()}
    split = layer_split(rows)
    table, parts, emd_cm, test_split = neighbour_measures(
        rows, test, split, reference, decoded, detector_setup("ld8")
    )
    assert [(r["model"], r["showers"]) for r in table] == [
        (m, c) for c in SHOWER_CLASSES for m in decoded
    ]
    everything = {r["model"]: r for r in table if r["showers"] == "all"}
    for row in everything.values():
        assert row["n_modules"] == test.size
        assert row["emd_mean_cm"] == pytest.approx(0.0, abs=1e-12)
        assert row["layer_barycentre_shift_mean_mm"] == pytest.approx(0.0, abs=1e-9)
        assert row["event_barycentre_shift_mean_mm"] == pytest.approx(0.0, abs=1e-9)
    paired = parts["comparison"]["with_neighbours_minus_alone"]["all"]["emd_cm"]
    assert paired["mean_difference"] == pytest.approx(0.0, abs=1e-12)
    assert parts["split_statistics"]["test"]["n_module_rows"] == test.size
    assert test_split.shape == test.shape and set(emd_cm) == set(decoded)


def test_a_worse_decoding_shows_in_the_comparison(rows: ModuleRows) -> None:
    test = np.arange(rows.n_rows)
    reference = np.asarray(rows.tc, dtype=np.float64)
    blurred = np.broadcast_to(reference.mean(axis=1, keepdims=True), reference.shape).copy()
    decoded = {"alone": blurred, "with_neighbours": reference.copy()}
    _, parts, emd_cm, _ = neighbour_measures(
        rows, test, layer_split(rows), reference, decoded, detector_setup("ld8")
    )
    assert emd_cm["alone"].mean() > 0.1 > emd_cm["with_neighbours"].max()
    paired = parts["comparison"]["with_neighbours_minus_alone"]["all"]["emd_cm"]
    assert paired["mean_difference"] < 0 and paired["share_better"] == 1.0
