"""Small vectorised geometry kernels: hexagons, convex clipping, areas, hex-lattice indexing.

Private helpers of :mod:`hgcal_ae.detector.hexagons` and :mod:`hgcal_ae.detector.tiling`.
Every function works on whole arrays (many polygons or many points at once).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


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
    with np.errstate(invalid="ignore", over="ignore"):  # NaN/inf points are simply outside
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
    area: FloatArray = 0.5 * np.abs(cross.sum(axis=1))
    return area


def lookup_index(
    lookup: IntArray, uv_min: tuple[int, int], u: npt.ArrayLike, v: npt.ArrayLike
) -> IntArray:
    """Entries of a dense (u, v) lookup table, broadcast over ``u`` and ``v``.

    ``lookup[u - uv_min[0], v - uv_min[1]]`` holds an index or -1; positions outside the
    table also give -1.
    """
    iu = np.asarray(u, dtype=np.int64) - uv_min[0]
    iv = np.asarray(v, dtype=np.int64) - uv_min[1]
    iu, iv = np.broadcast_arrays(iu, iv)
    valid = (iu >= 0) & (iu < lookup.shape[0]) & (iv >= 0) & (iv < lookup.shape[1])
    return np.where(valid, lookup[np.where(valid, iu, 0), np.where(valid, iv, 0)], -1)


def nearest_lattice_point(
    x: FloatArray, y: FloatArray, origin: FloatArray, basis: FloatArray
) -> tuple[IntArray, IntArray]:
    """Integer (u, v) of the hexagonal-lattice point nearest to each point (x, y).

    Exact hex rounding: the fractional axial coordinates are rounded in cube coordinates
    (q, r, s = -q - r), and the component with the largest rounding error is re-derived
    from the other two.  See https://www.redblobgames.com/grids/hexagons/#rounding.

    Parameters
    ----------
    x, y
        Point coordinates, arrays of one shape.
    origin
        Position of lattice point (0, 0), shape (2,).
    basis
        Lattice vectors e_u, e_v as columns, shape (2, 2); equal lengths, 60 or 120 degrees
        apart.

    Returns
    -------
    (u, v) : numpy.ndarray of int64, the shape of ``x``
        Points with a NaN or infinite coordinate get a lattice point about 1e9 steps away.
    """
    inverse = np.linalg.inv(basis)
    with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 is handled just below
        fu = inverse[0, 0] * (x - origin[0]) + inverse[0, 1] * (y - origin[1])
        fv = inverse[1, 0] * (x - origin[0]) + inverse[1, 1] * (y - origin[1])
    # non-finite or huge coordinates go to a far-away lattice point instead of overflowing
    far = 1e9
    fu = np.where(np.isfinite(fu), np.clip(fu, -far, far), far)
    fv = np.where(np.isfinite(fv), np.clip(fv, -far, far), far)
    # cube rounding needs axes 60 degrees apart: flip v when e_u, e_v are 120 degrees apart
    sign = 1 if float(basis[:, 0] @ basis[:, 1]) > 0 else -1
    q, r = fu, sign * fv
    s = -q - r
    rq, rr, rs = np.rint(q), np.rint(r), np.rint(s)
    dq, dr, ds = np.abs(rq - q), np.abs(rr - r), np.abs(rs - s)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    u = np.where(fix_q, -rr - rs, rq)
    v = sign * np.where(fix_r, -rq - rs, rr)
    return u.astype(np.int64), v.astype(np.int64)


def lattice_offsets(basis: FloatArray, max_distance: float) -> IntArray:
    """Lattice offsets (du, dv) != 0 with 0 < |basis @ (du, dv)| <= max_distance.

    Sorted by distance, then counter-clockwise by angle from the +x axis; shape (M, 2).
    Searches |du|, |dv| <= 3, enough for up to two rings of neighbours.
    """
    du, dv = np.meshgrid(np.arange(-3, 4), np.arange(-3, 4), indexing="ij")
    offsets = np.stack([du.ravel(), dv.ravel()], axis=1)
    xy = offsets @ basis.T
    dist = np.hypot(xy[:, 0], xy[:, 1])
    keep = (dist > 0) & (dist <= max_distance * (1 + 1e-9))
    angle = np.arctan2(xy[keep, 1], xy[keep, 0]) % (2 * np.pi)
    order = np.lexsort((np.round(angle, 9), np.round(dist[keep], 9)))
    return offsets[keep][order]
