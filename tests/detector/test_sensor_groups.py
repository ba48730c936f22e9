"""Tests of the hexagonal cell clusters of the 6-inch sensor (2, 3, 7 cells)."""

from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.detector.hexagons import neighbours, sensor
from hgcal_ae.detector.sensor_groups import GROUP_SIZES, cell_groups
from hgcal_ae.errors import ConfigError

LATTICE = sensor("tb2018_6inch")


def _groups_as_sets(size: int) -> list[set[int]]:
    g = cell_groups(size)
    order = np.argsort(g.group, kind="stable")
    return [set(part.tolist()) for part in np.split(order, np.cumsum(g.counts)[:-1])]


@pytest.mark.parametrize("size", GROUP_SIZES)
def test_every_cell_is_in_exactly_one_group_of_the_right_size(size: int) -> None:
    g = cell_groups(size)
    assert g.group.shape == (109,) and g.group.min() == 0 and g.group.max() == g.n_groups - 1
    assert np.array_equal(np.bincount(g.group, minlength=g.n_groups), g.counts)
    assert g.counts.sum() == 109 and g.counts.max() == size and g.counts.min() >= 1
    sets = _groups_as_sets(size)
    assert sorted(c for s in sets for c in s) == list(range(109))  # a partition
    # the interior is tiled by full clusters: a group that misses cells misses them off the
    # sensor (its full shape has positions that hold no cell)
    assert (g.counts == size).sum() >= {1: 109, 2: 48, 3: 30, 7: 7}[size]


@pytest.mark.parametrize("size", [2, 3])
def test_pairs_and_triangles_are_mutual_neighbours(size: int) -> None:
    near = neighbours(LATTICE)
    for cells in _groups_as_sets(size):
        for c in cells:
            assert cells - {c} <= set(near[c].tolist())


def test_seven_cell_groups_are_a_cell_and_its_neighbours() -> None:
    g = cell_groups(7)
    # 7 full clusters, 6 of 6 and 6 of 4 cells along the edge
    assert g.n_groups == 19 and np.bincount(g.counts).tolist() == [0, 0, 0, 0, 6, 0, 6, 7]
    near = neighbours(LATTICE)
    centre = LATTICE.index_of(g.anchor_u, g.anchor_v)
    for k, cells in enumerate(_groups_as_sets(7)):
        if centre[k] >= 0:  # the centre is on the sensor: the group is it and its neighbours
            full = {int(centre[k]), *(int(n) for n in near[centre[k]] if n >= 0)}
            assert cells == full
        else:  # an edge group: its centre is off the sensor, its cells all neighbour it
            du, dv = LATTICE.u[list(cells)] - g.anchor_u[k], LATTICE.v[list(cells)] - g.anchor_v[k]
            assert all((a, b) in {(1, 0), (0, 1), (-1, 1), (-1, 0), (0, -1), (1, -1)}
                       for a, b in zip(du, dv, strict=True))  # fmt: skip
    # the tiling is centred on the sensor's centre cell
    assert (0, 0) in set(zip(g.anchor_u.tolist(), g.anchor_v.tolist(), strict=True))


@pytest.mark.parametrize("size", GROUP_SIZES)
def test_sums_and_spread_keep_each_group_and_work_on_any_leading_axes(size: int) -> None:
    g = cell_groups(size)
    cells = np.random.default_rng(1).exponential(size=(3, 28, 109))
    sums = g.sums(cells)
    assert sums.shape == (3, 28, g.n_groups)
    assert np.allclose(sums.sum(axis=-1), cells.sum(axis=-1))
    assert np.allclose(sums[1, 4], np.bincount(g.group, weights=cells[1, 4]))
    spread = g.grouped(cells)
    assert spread.shape == cells.shape and np.allclose(g.sums(spread), sums)
    if size == 1:
        assert np.array_equal(spread, cells)
    else:  # cells of one group share one value
        assert np.allclose(spread[0, 0], sums[0, 0][g.group] / g.counts[g.group])


def test_bad_sizes_and_shapes_are_one_line() -> None:
    with pytest.raises(ConfigError, match=r"cell group size must be one of 1, 2, 3, 7, got 4"):
        cell_groups(4)
    with pytest.raises(ConfigError, match=r"must end in 109 cells, got shape \(28, 48\)"):
        cell_groups(7).sums(np.zeros((28, 48)))
    with pytest.raises(ConfigError, match=r"must end in 19 groups"):
        cell_groups(7).spread(np.zeros(18))
