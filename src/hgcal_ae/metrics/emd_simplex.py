"""The exact transportation simplex behind :func:`hgcal_ae.metrics.emd.emd`, in numba.

Public API (called by :func:`~hgcal_ae.metrics.emd.emd`, which checks the inputs)::

    emd_rows(a, b, dist, out, n_chunks)      # rows in parallel, n_chunks contiguous chunks
    emd_rows_serial(a, b, dist, out)         # the same, on the calling thread
    EMPTY_INPUT, EMPTY_OUTPUT                # Ecoder's sentinels of empty rows

``a`` and ``b`` are C-contiguous float64 ``(N, n)`` charges of any number of cells ``n`` (48
trigger cells, 109 cells of the 6-inch beam-test sensor, ...), ``dist`` the ``(n, n)`` ground
distance (a metric); ``out[r]`` receives the distance of row ``r`` (``nan`` if the pivot cap is
hit).  The workspace of a chunk of rows is sized by ``n``.

Algorithm: the network simplex of the bipartite transport problem, as in POT.  Because the
ground distance is a metric, the mass common to both rows at a TC stays in place in an
optimal plan, so only the surpluses ``max(a - b, 0)`` (sources) and deficits
``max(b - a, 0)`` (sinks) enter the solver; modules with a few hit TCs give a few sources and
the problem stays small (a row of ``n`` cells has at most ``n`` sources and sinks together).  The start is a greedy plan (sinks in order of their distance to the
nearest source, each filled from its nearest sources), completed to a spanning tree with
zero-flow cells; pivots use the most negative reduced cost and switch to Bland's rule (which
cannot cycle) after a run of degenerate pivots.  Every row is solved independently with its
own workspace, so results do not depend on the thread count.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from hgcal_ae.detector.trigger_cells import N_TRIGGER_CELLS as N_TC

__all__ = ["EMPTY_INPUT", "EMPTY_OUTPUT", "emd_rows", "emd_rows_serial"]

FloatArray = npt.NDArray[np.float64]

EMPTY_INPUT = -1.0  # Ecoder sentinel: the input row sums to zero
EMPTY_OUTPUT = -0.5  # Ecoder sentinel: the output row sums to zero (input not empty)

# Normalised masses below this are rounding noise (e.g. a - b of two rows equal up to an ulp);
# dropping at most n of them changes the distance by < n * 1e-14 of the largest distance.
_MASS_TOL = 1e-14
# Reduced costs above -_COST_TOL * max(cost) count as non-negative: the plan is then optimal
# to within _COST_TOL * max(cost) * (transported mass <= 1).
_COST_TOL = 1e-11
_MAX_PIVOTS = 1_000_000  # safety net only; Bland's rule terminates long before


@njit(cache=True, parallel=True)
def emd_rows(
    a: FloatArray, b: FloatArray, dist: FloatArray, out: FloatArray, n_chunks: int
) -> None:
    # Contiguous chunks, several per thread for load balance; each chunk owns its workspace.
    n_rows = a.shape[0]
    for c in prange(n_chunks):
        lo = c * n_rows // n_chunks
        hi = (c + 1) * n_rows // n_chunks
        ws = _workspace_n(a.shape[1])
        for r in range(lo, hi):
            out[r] = _emd_row(a[r], b[r], dist, ws)


@njit(cache=True)
def emd_rows_serial(a: FloatArray, b: FloatArray, dist: FloatArray, out: FloatArray) -> None:
    ws = _workspace_n(a.shape[1])
    for r in range(a.shape[0]):
        out[r] = _emd_row(a[r], b[r], dist, ws)


@njit(cache=True)
def _workspace() -> tuple[Any, ...]:
    # the workspace of rows of the 48 trigger cells (metrics.emd_loss solves those)
    return _workspace_n(N_TC)


@njit(cache=True)
def _workspace_n(n_cells: int) -> tuple[Any, ...]:
    # Rows of up to ``n_cells`` cells; ``n_cells`` (the length of src) is also the stride of adj:
    # a node has at most n_cells basic cells (one per counterpart node).
    nc = n_cells * n_cells
    nn = 2 * n_cells  # nodes: sources then sinks
    return (
        np.empty(n_cells, np.int64),  # 0 src: cell of each source
        np.empty(n_cells, np.int64),  # 1 dst: cell of each sink
        np.empty(n_cells),  # 2 sup: supply of each source
        np.empty(n_cells),  # 3 dem: demand of each sink
        np.empty(nc),  # 4 cost[i * n + j]
        np.empty(nc, np.int64),  # 5 pos[i * n + j]: basis slot of a cell, -1 if non-basic
        np.empty(nn, np.int64),  # 6 bi: source of each basic cell
        np.empty(nn, np.int64),  # 7 bj: sink of each basic cell
        np.empty(nn),  # 8 bx: flow of each basic cell
        np.empty(nn, np.int64),  # 9 deg: basic cells at each node
        np.empty(nn * n_cells, np.int64),  # 10 adj[v * n_cells + s]: the basic cells at node v
        np.empty(nn, np.int64),  # 11 union-find parent, then DFS stack
        np.empty(nn),  # 12 pot: dual potentials (u of sources, v of sinks)
        np.empty(nn, np.int64),  # 13 par_e: tree edge (basis slot) to the parent node
        np.empty(nn, np.int64),  # 14 par_n: parent node
        np.empty(nn, np.int64),  # 15 depth
        np.empty(nn, np.int64),  # 16 path from the entering source to the apex
        np.empty(nn, np.int64),  # 17 path from the entering sink to the apex
    )


@njit(cache=True)
def _find(parent: Any, x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=True)
def _adj_remove(adj: Any, deg: Any, stride: int, v: int, k: int) -> None:
    base = v * stride
    for s in range(deg[v]):
        if adj[base + s] == k:
            deg[v] -= 1
            adj[base + s] = adj[base + deg[v]]
            return


@njit(cache=True)
def _hang(
    root: int, m: int, n: int, cost: Any, bi: Any, bj: Any, adj: Any, deg: Any, stride: int,
    stack: Any, pot: Any, par_e: Any, par_n: Any, depth: Any,
) -> None:  # fmt: skip
    # Parents, depths and potentials (u_i + v_j = c_ij on tree cells) of the subtree hanging
    # from ``root``, whose own entries are already set.
    stack[0] = root
    top = 1
    while top > 0:
        top -= 1
        v = stack[top]
        base = v * stride
        for s in range(deg[v]):
            k = adj[base + s]
            if k == par_e[v]:
                continue
            w = m + bj[k] if v < m else bi[k]
            par_e[w] = k
            par_n[w] = v
            depth[w] = depth[v] + 1
            pot[w] = cost[bi[k] * n + bj[k]] - pot[v]
            stack[top] = w
            top += 1


@njit(cache=True)
def _leaving(
    path: Any, length: int, bx: Any, bi: Any, bj: Any, n: int, bland: bool, theta: float,
    leave: int,
) -> tuple[float, int]:  # fmt: skip
    # The cells at even positions of a path from the entering cell to the apex lose flow:
    # the first of them (and of the given ``leave``, of flow ``theta``) to run dry, ties to
    # the lowest cell index under Bland's rule.
    for t in range(0, length, 2):
        k = path[t]
        if bx[k] < theta or (
            bland and bx[k] == theta and bi[k] * n + bj[k] < bi[leave] * n + bj[leave]
        ):
            theta = bx[k]
            leave = k
    return theta, leave


@njit(cache=True)
def _shift_flow(path: Any, length: int, bx: Any, theta: float) -> None:
    # Send ``theta`` round the cycle: cells at even positions lose it, odd ones gain it.
    for t in range(length):
        k = path[t]
        bx[k] = bx[k] - theta if t % 2 == 0 else bx[k] + theta


@njit(cache=True)
def _emd_row(a: FloatArray, b: FloatArray, dist: FloatArray, ws: tuple[Any, ...]) -> float:
    (
        src,
        dst,
        sup,
        dem,
        cost,
        pos,
        bi,
        bj,
        bx,
        deg,
        adj,
        work,
        pot,
        par_e,
        par_n,
        depth,
        path_p,
        path_q,
    ) = ws
    stride = src.shape[0]  # the workspace's cells: >= the row's cells
    sa = a.sum()
    if sa == 0.0:
        return EMPTY_INPUT
    sb = b.sum()
    if sb == 0.0:
        return EMPTY_OUTPUT
    # Sources: surplus of the input at a cell; sinks: its deficit (common mass stays in place).
    m = 0
    n = 0
    for k in range(a.shape[0]):
        d = a[k] / sa - b[k] / sb
        if d > _MASS_TOL:
            src[m] = k
            sup[m] = d
            m += 1
        elif d < -_MASS_TOL:
            dst[n] = k
            dem[n] = -d
            n += 1
    if m == 0 or n == 0:
        return 0.0
    if m == 1:  # one source ships to every sink
        total = 0.0
        for j in range(n):
            total += dem[j] * dist[src[0], dst[j]]
        return total
    if n == 1:
        total = 0.0
        for i in range(m):
            total += sup[i] * dist[src[i], dst[0]]
        return total

    # ---- greedy start: sinks in order of their distance to the nearest source, each filled
    # from its nearest sources that have mass left; completed to a spanning tree with
    # zero-flow cells
    cmax = 0.0
    for j in range(n):
        cmin = np.inf
        for i in range(m):
            c = dist[src[i], dst[j]]
            cost[i * n + j] = c
            pos[i * n + j] = -1
            cmax = max(cmax, c)
            cmin = min(cmin, c)
        pot[j] = cmin  # scratch: sort key of the sinks
    order = np.argsort(pot[:n])
    n_nodes = m + n
    parent = work
    for v in range(n_nodes):
        parent[v] = v
    k_basis = 0
    for t in range(n):
        j = order[t]
        while dem[j] > 0.0:
            i_best = -1
            c_best = np.inf
            for i in range(m):
                if sup[i] > 0.0 and cost[i * n + j] < c_best:
                    c_best = cost[i * n + j]
                    i_best = i
            if i_best < 0:
                break  # supply exhausted: the rest of the demand is rounding noise
            i = i_best
            # Each allocation empties its source or its sink exactly (x - x == 0), so the
            # allocated cells form a forest.
            f = min(sup[i], dem[j])
            sup[i] -= f
            dem[j] -= f
            cell = i * n + j
            bi[k_basis] = i
            bj[k_basis] = j
            bx[k_basis] = f
            pos[cell] = k_basis
            k_basis += 1
            parent[_find(parent, i)] = _find(parent, m + j)
    for cell in range(m * n):
        if k_basis == n_nodes - 1:
            break
        i = cell // n
        j = cell - i * n
        ri = _find(parent, i)
        rj = _find(parent, m + j)
        if ri != rj:
            parent[ri] = rj
            bi[k_basis] = i
            bj[k_basis] = j
            bx[k_basis] = 0.0
            pos[cell] = k_basis
            k_basis += 1

    # ---- the basis tree, rooted at source 0
    for v in range(n_nodes):
        deg[v] = 0
    for k in range(k_basis):
        adj[bi[k] * stride + deg[bi[k]]] = k
        deg[bi[k]] += 1
        adj[(m + bj[k]) * stride + deg[m + bj[k]]] = k
        deg[m + bj[k]] += 1
    par_e[0] = -1
    par_n[0] = -1
    depth[0] = 0
    pot[0] = 0.0
    _hang(0, m, n, cost, bi, bj, adj, deg, stride, work, pot, par_e, par_n, depth)

    # ---- transportation simplex
    eps = _COST_TOL * cmax
    bland = False
    n_degenerate = 0
    for _pivot in range(_MAX_PIVOTS):
        # pricing: most negative reduced cost, or the first negative one under Bland's rule
        enter = -1
        best = -eps
        # (basic cells need no test: their reduced cost is zero up to rounding, far above -eps)
        for i in range(m):
            ui = pot[i]
            row = i * n
            for j in range(n):
                r = cost[row + j] - ui - pot[m + j]
                if r < best:
                    best = r
                    enter = row + j
                    if bland:
                        break
            if bland and enter >= 0:
                break
        if enter < 0:
            total = 0.0
            for k in range(k_basis):
                total += bx[k] * cost[bi[k] * n + bj[k]]
            return total
        # the cycle closed by the entering cell: tree paths from source p and sink q to the apex
        p = enter // n
        q = enter - p * n
        x = p
        y = m + q
        lp = 0
        lq = 0
        while x != y:
            if depth[x] >= depth[y]:
                path_p[lp] = par_e[x]
                lp += 1
                x = par_n[x]
            else:
                path_q[lq] = par_e[y]
                lq += 1
                y = par_n[y]
        # cells at even positions of either path lose flow (they share a node with a gainer);
        # the leaving cell is the first to run dry (ties: lowest cell index under Bland's rule)
        theta, leave = _leaving(path_p, lp, bx, bi, bj, n, bland, np.inf, -1)
        theta, leave_q = _leaving(path_q, lq, bx, bi, bj, n, bland, theta, leave)
        leave_on_p = leave_q == leave  # the two paths share no cell
        leave = leave_q
        if theta > 0.0:
            _shift_flow(path_p, lp, bx, theta)
            _shift_flow(path_q, lq, bx, theta)
            n_degenerate = 0
        else:
            n_degenerate += 1
            if n_degenerate > n_nodes:
                bland = True  # guards against cycling through degenerate bases
        # swap the cells in the basis; the subtree cut off by the leaving cell hangs from the
        # entering cell afterwards: from p if the leaving cell was on p's side, else from q
        _adj_remove(adj, deg, stride, bi[leave], leave)
        _adj_remove(adj, deg, stride, m + bj[leave], leave)
        pos[bi[leave] * n + bj[leave]] = -1
        bi[leave] = p
        bj[leave] = q
        bx[leave] = theta
        pos[enter] = leave
        adj[p * stride + deg[p]] = leave
        deg[p] += 1
        adj[(m + q) * stride + deg[m + q]] = leave
        deg[m + q] += 1
        s, t_ = (p, m + q) if leave_on_p else (m + q, p)
        par_e[s] = leave
        par_n[s] = t_
        depth[s] = depth[t_] + 1
        pot[s] = cost[enter] - pot[t_]
        _hang(s, m, n, cost, bi, bj, adj, deg, stride, work, pot, par_e, par_n, depth)
    return np.nan
