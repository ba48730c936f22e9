from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.datasets.module_rows import ModuleRows
from hgcal_ae.datasets.trigger_cells import read_trigger_cells
from hgcal_ae.detector.setups import detector_setup
from hgcal_ae.detector.trigger_cells import tc_pitch_cm
from hgcal_ae.errors import ConfigError, DataError
from hgcal_ae.study.showers import TriggerDatasetConfig, make_trigger_dataset
from hgcal_ae.trigger.neighbours import border_charges, border_geometry, layer_split


@pytest.fixture(scope="module")
def ld8():
    return border_geometry("ld8")


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    path = tmp_path_factory.mktemp("neighbours") / "tiny.h5"
    config = TriggerDatasetConfig(
        energies_gev=(20.0, 100.0), events_per_energy=3, events_per_group=1
    )
    make_trigger_dataset(config, path)
    return read_trigger_cells(path)[0]


def _rotate(xy, degrees):
    a = np.deg2rad(degrees)
    r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return xy @ r.T


def test_tc_pitch_is_the_ecoder_spacing():
    for name in ("ld8", "hd8"):
        assert tc_pitch_cm(name) == pytest.approx(2.4168015, abs=1e-5)


def test_adjacent_modules_of_the_tiling(ld8):
    assert ld8.adjacent[0].tolist() == [1, 2, 3, 4, 5, 6]  # the central wafer is surrounded
    assert ((ld8.adjacent[1:] >= 0).sum(axis=1) == 3).all()  # ring wafers: centre + 2 in the ring
    for a, j in zip(*np.nonzero(ld8.adjacent >= 0), strict=True):
        assert ld8.adjacent[ld8.adjacent[a, j], (j + 3) % 6] == a


@pytest.mark.parametrize("name", ["ld8", "hd8"])
def test_every_interior_module_has_the_same_border(name):
    g = border_geometry(name)
    assert g.n_border == 24 and g.side_tc.shape == (6, 4)
    valid = g.border_module >= 0
    assert ((g.border_tc >= 0) == valid).all()  # padding is -1 in both arrays
    interior = (g.adjacent >= 0).all(axis=1)
    assert interior.any() and (valid[interior].sum(axis=1) == 24).all()
    assert (valid.sum(axis=1) == 4 * (g.adjacent >= 0).sum(axis=1)).all()
    # every border TC lies in the neighbour, within the border distance of the shared side
    setup = detector_setup(name)
    xy = g.border_xy() - np.stack([setup.tiling.x_cm, setup.tiling.y_cm], axis=1)[:, None]
    angle = np.deg2rad(60 * np.repeat(np.arange(6), 4))
    from_side = xy[..., 0] * np.cos(angle) + xy[..., 1] * np.sin(angle)
    from_side -= setup.lattice.wafer_flat_to_flat_cm / 2
    assert (from_side[valid] > 0).all() and (from_side[valid] <= g.max_distance_cm).all()


def test_border_tcs_are_symmetric(ld8):
    """If TC t of b borders a, the TC of a nearest to t borders b (and sides have equal size)."""
    xy = np.stack([ld8.tc_x_cm, ld8.tc_y_cm], axis=-1)  # (7, 48, 2)
    checked = 0
    for a in range(ld8.n_modules):
        for k in np.flatnonzero(ld8.border_module[a] >= 0):
            b, t = ld8.border_module[a, k], ld8.border_tc[a, k]
            nearest = int(np.argmin(np.linalg.norm(xy[a] - xy[b, t], axis=1)))
            back = ld8.border_tc[b][ld8.border_module[b] == a]
            assert nearest in back.tolist(), (a, b, t)
            assert back.size == (ld8.border_module[a] == b).sum() == 4
            checked += 1
    assert checked == 24 + 6 * 12


def test_slots_rotate_with_the_layout(ld8):
    xy = ld8.border_xy()[0]  # the central module, at the origin
    by_side = xy.reshape(6, 4, 2)
    for j in range(6):  # 120 degrees: the TC map's own symmetry, exact
        np.testing.assert_allclose(_rotate(by_side[j], 120), by_side[(j + 2) % 6], atol=1e-9)
    half_tc = 0.55 * tc_pitch_cm("ld8")
    for j in range(6):  # 60 degrees: slot (j, i) lands on slot (j + 1, i) within half a TC
        rotated = _rotate(by_side[j], 60)
        moved = np.linalg.norm(rotated[:, None] - by_side[(j + 1) % 6][None], axis=-1)
        assert (moved.diagonal() < half_tc).all()


def test_border_distance_is_checked():
    with pytest.raises(ConfigError, match=r"selects \[5, 4, 5, 4, 5, 4\] TCs"):
        border_geometry("ld8", max_distance_cm=2.4168)
    with pytest.raises(ConfigError, match="max_distance_cm must be a positive length"):
        border_geometry("ld8", max_distance_cm=-1.0)
    with pytest.raises(ConfigError, match="has no trigger-cell map"):
        border_geometry("tb2018")


def _hand_rows():
    """Event 0 layer 1: modules 0 and 1; event 0 layer 3: module 2; event 1 layer 1: module 1."""
    event = np.array([0, 0, 0, 1])
    layer = np.array([1, 1, 3, 1])
    module = np.array([0, 1, 2, 1])
    tc = 1.0 + np.arange(48)[None, :] + 100.0 * np.arange(4)[:, None]
    return event, layer, module, tc


def test_gathered_charges_come_from_the_right_rows(ld8):
    event, layer, module, tc = _hand_rows()
    out = border_charges(ModuleRows.build(event, layer, module, tc), "ld8")
    assert out.shape == (4, 24)
    expected = np.zeros((4, 24))
    expected[0, 0:4] = tc[1, ld8.side_tc[0]]  # module 1 lies across side 0 of module 0
    expected[1, 12:16] = tc[0, ld8.side_tc[3]]  # module 0 lies across side 3 of module 1
    # module 2 has charge only in layer 3 and module 1 of event 1 has no neighbour row: zeros
    np.testing.assert_array_equal(out, expected)
    # row order does not matter
    perm = np.array([3, 1, 0, 2])
    rows = ModuleRows.build(event[perm], layer[perm], module[perm], tc[perm])
    np.testing.assert_array_equal(border_charges(rows, ld8), expected[perm])


def test_gathered_charges_on_simulated_showers(simulated, ld8):
    out = border_charges(simulated, "ld8")
    assert out.shape == (simulated.n_rows, 24) and (out > 0).any()
    where = {
        (e, la, m): r
        for r, (e, la, m) in enumerate(
            zip(simulated.event, simulated.layer, simulated.module, strict=True)
        )
    }
    for r in range(0, simulated.n_rows, 7):  # a plain loop as the reference
        e, la, m = simulated.event[r], simulated.layer[r], simulated.module[r]
        for k in range(24):
            b, t = ld8.border_module[m, k], ld8.border_tc[m, k]
            source = where.get((e, la, b)) if b >= 0 else None
            want = 0.0 if source is None else simulated.tc[source, t]
            assert out[r, k] == want


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            lambda e, la, m, t: (e, la, m, np.where(t == 5.0, np.nan, t)),
            DataError,
            "NaN or infinite charges in 1 of 4 rows",
        ),
        (lambda e, la, m, t: (e, la, m, -t), DataError, "charges >= 0"),
        (lambda e, la, m, t: (e[:3], la, m, t), ConfigError, r"'event' must have shape \(4,\)"),
        (
            lambda e, la, m, t: (e, la, m, t[:, :40]),
            ConfigError,
            "must have 48 TCs per row, got 40",
        ),
        (lambda e, la, m, t: (e, la, m + 5, t), ConfigError, r"'module' must lie in 0\.\.6"),
        (lambda e, la, m, t: (e * 0, la * 0 + 1, m * 0, t), DataError, "two rows for event 0"),
    ],
)
def test_bad_rows_are_refused(change, error, message):
    with pytest.raises(error, match=message):
        border_charges(ModuleRows.build(*change(*_hand_rows())), "ld8")


def test_split_fractions_sum_to_one(rng):
    event = np.repeat(np.arange(30), 4)
    layer = np.tile([1, 1, 3, 3], 30)
    module = np.tile([0, 1, 0, 4], 30)
    tc = rng.exponential(1.0, (120, 48)) * rng.random((120, 1)) ** 3
    tc[2:4] = 0.0  # event 0, layer 3 has no energy
    s = layer_split(ModuleRows.build(event, layer, module, tc), threshold=0.9)
    assert s.group_event.size == 60 and (s.group_modules == 2).all()
    sums = np.bincount(s.row_group, weights=np.nan_to_num(s.row_fraction), minlength=60)
    np.testing.assert_allclose(np.delete(sums, 1), 1.0, rtol=1e-12)
    assert np.isnan(s.hottest_fraction[1]) and not s.split[1] and sums[1] == 0
    pair = s.row_fraction.reshape(60, 2)
    np.testing.assert_allclose(s.hottest_fraction[2:], pair[2:].max(axis=1))
    np.testing.assert_array_equal(s.split[2:], pair[2:].max(axis=1) < 0.9)
    np.testing.assert_array_equal(s.row_split, np.repeat(s.split, 2))


def test_split_of_simulated_showers(simulated):
    s = layer_split(simulated)
    sums = np.bincount(s.row_group, weights=s.row_fraction)
    np.testing.assert_allclose(sums, 1.0, rtol=1e-12)
    one_module = s.group_modules == 1
    assert (s.hottest_fraction[one_module] == 1).all() and not s.split[one_module].any()
    assert s.split.any()  # showers within a wafer radius of the centre do cross borders
    with pytest.raises(ConfigError, match=r"threshold must be a share .* in \(0, 1\]"):
        layer_split(simulated, threshold=1.5)
