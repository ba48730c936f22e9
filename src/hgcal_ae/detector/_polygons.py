"""Small vectorised plane-geometry kernels: regular hexagons, convex clipping, areas.

Private helpers of :mod:`hgcal_ae.detector.hexagons` and :mod:`hgcal_ae.detector.tiling`.
Every function works on whole arrays (many polygons or many points at once).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def hexagon_vertices(circumradius: float, first_vertex_deg: float) -> FloatArray:
    """Vertices of a regular hexagon centred on the origin, counter-clockwise.

    Parameters
    ----------
    circumradius
        Centre-to-vertex distance (any length unit).
    first_vertex_deg
        Polar angle of the first vertex in degrees (30 for a "pointy-top" hexagon).

    Returns
    -------
    numpy.ndarray, shape (6, 2)
    """
    angles = np.deg2rad(first_vertex_deg + 60.0 * np.arange(6))
    return circumradius * np.stack([np.cos(angles), np.sin(angles)], axis=-1)


def inside_hexagon(
    x: npt.ArrayLike, y: npt.ArrayLike, flat_to_flat: float, flat_normal_deg: float
) -> npt.NDArray[np.bool_]:
    """Whether points lie inside (or on) a regular hexagon centred on the origin.

    Parameters
    ----------
    x, y
        Point coordinates, broadcastable arrays, same unit as ``flat_to_flat``.
    flat_to_flat
        Distance between opposite sides of the hexagon.
    flat_normal_deg
        Polar angle (degrees) of the outward normal of one side.

    Returns
    -------
    numpy.ndarray of bool, the broadcast shape of ``x`` and ``y``.
    """
    xa, ya = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    apothem = 0.5 * flat_to_flat * (1.0 + 1e-12)  # closed hexagon, robust to rounding
    inside = np.ones(xa.shape, dtype=bool)
    for k in range(3):  # three pairs of opposite sides, not a loop over points
        angle = np.deg2rad(flat_normal_deg + 60.0 * k)
        inside &= np.abs(xa * np.cos(angle) + ya * np.sin(angle)) <= apothem
    return inside


def clip_convex(polygons: FloatArray, normals: FloatArray, offsets: FloatArray) -> FloatArray:
    """Clip many convex polygons, each by its own half-plane ``n . p <= offset``.

    Sutherland-Hodgman on padded arrays: a polygon is a fixed-length vertex list in which
    repeated vertices (zero-length edges) are allowed, so polygons of different vertex
    counts share one array.  A polygon clipped away entirely becomes one repeated point.

    Parameters
    ----------
    polygons
        Shape (M, K, 2), vertices in order (either orientation).
    normals
        Shape (M, 2), half-plane normals; a zero normal with positive offset keeps all.
    offsets
        Shape (M,).

    Returns
    -------
    numpy.ndarray, shape (M, K', 2) with K' <= 2 K.
    """
    n_poly, n_vert, _ = polygons.shape
    dist = np.einsum("mkj,mj->mk", polygons, normals) - offsets[:, None]
    following = np.roll(polygons, -1, axis=1)
    dist_following = np.roll(dist, -1, axis=1)
    keep_vertex = dist <= 0.0
    crossing = dist * dist_following < 0.0
    t = dist / np.where(crossing, dist - dist_following, 1.0)
    cut = polygons + t[..., None] * (following - polygons)
    candidates = np.stack([polygons, cut], axis=2).reshape(n_poly, 2 * n_vert, 2)
    keep = np.stack([keep_vertex, crossing], axis=2).reshape(n_poly, 2 * n_vert)
    order = np.argsort(~keep, axis=1, kind="stable")  # kept entries first, order preserved
    candidates = np.take_along_axis(candidates, order[..., None], axis=1)
    keep = np.take_along_axis(keep, order, axis=1)
    width = max(int(keep.sum(axis=1).max()), 1)
    candidates, keep = candidates[:, :width], keep[:, :width]
    return np.where(keep[..., None], candidates, candidates[:, :1])


def polygon_areas(polygons: FloatArray) -> FloatArray:
    """Areas of many simple polygons by the shoelace formula.

    Parameters
    ----------
    polygons
        Shape (M, K, 2); repeated vertices are harmless.

    Returns
    -------
    numpy.ndarray, shape (M,), in the squared unit of the vertices.
    """
    x, y = polygons[..., 0], polygons[..., 1]
    cross = x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y
    return 0.5 * np.abs(cross.sum(axis=1))
