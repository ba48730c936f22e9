"""The exact EMD as a differentiable training loss: value and gradient from the transport simplex.

Public API::

    emd_with_potentials(a, b, coords=None) -> (emd (N,), potential (N, 48))   # numpy, [cm]
    ExactEMD.apply(p, q, dist) -> (N,)        # torch autograd Function on normalised rows
    exact_emd(target, decoded, coords=None) -> (N,) tensor [cm]
    exact_emd_image_loss(y, y_hat) -> scalar  # mean EMD of (B, 1, 8, 8) module images [cm]

The EMD between normalised charge maps ``p`` and ``q`` is the optimum of a linear program
(the transport problem of :func:`hgcal_ae.metrics.emd.emd`).  By LP duality
``EMD = max Σ_i p_i f_i + Σ_j q_j g_j`` subject to ``f_i + g_j <= d_ij``, so the gradient
of the optimal cost with respect to ``q`` is the dual potential ``g`` (a subgradient where the
optimum is degenerate), and with respect to ``p`` it is ``f``.  The project's simplex
(:mod:`hgcal_ae.metrics.emd_simplex`) solves the problem reduced to surpluses (sources, TCs
with ``p > q``) and deficits (sinks, ``q > p``) and keeps the potentials ``u`` of the sources
and ``v`` of the sinks of its final basis; the full problem's ``g`` is then ``v`` at a sink,
``-u`` at a source (mass staying in place costs nothing, so ``f_k + g_k = 0`` there), and the
cheapest delivery ``min_i (d_ik - u_i)`` at a TC where ``p == q``.  Potentials are defined up to
a constant; they are centred per row, as POT's ``ot.emd2`` does, and the constant has no effect
once the rows go through the normalisation ``q / Σ q``.

The value agrees with POT to rounding and the gradient with ``ot.emd2``'s autograd and with
finite differences (tests/metrics/test_emd_loss.py).  This is the exact gradient that the
published EMD-trained AE (arXiv:2306.04712) approximated with a CNN surrogate.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import numpy.typing as npt
import torch
from numba import njit, prange

from hgcal_ae.detector.trigger_cells import N_TRIGGER_CELLS as N_TC
from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.emd import check_charges, default_tc_coords

# the solver's row kernel and workspace: this module reads the potentials the row leaves there
from hgcal_ae.metrics.emd_simplex import _MASS_TOL, _emd_row, _workspace
from hgcal_ae.trigger.images import from_image_8x8

__all__ = ["ExactEMD", "emd_with_potentials", "exact_emd", "exact_emd_image_loss"]

FloatArray = npt.NDArray[np.float64]


@njit(cache=True)
def _potential(a: FloatArray, b: FloatArray, dist: FloatArray, ws: Any, g: FloatArray) -> None:
    # g[k] = d EMD / d b_k of the normalised rows, centred; zero for an empty row.
    src, dst, pot = ws[0], ws[1], ws[12]
    for k in range(N_TC):
        g[k] = 0.0
    sa = a.sum()
    sb = b.sum()
    if sa == 0.0 or sb == 0.0:
        return
    m = 0
    n = 0
    side = np.zeros(N_TC, np.int64)  # 1 source, -1 sink, 0 in place (the solver's own rule)
    for k in range(N_TC):
        d = a[k] / sa - b[k] / sb
        if d > _MASS_TOL:
            side[k] = 1
            m += 1
        elif d < -_MASS_TOL:
            side[k] = -1
            n += 1
    if m == 0 or n == 0:
        return
    u = np.empty(m)
    v = np.empty(n)
    if m == 1:  # the solver's shortcut: one source ships to every sink
        u[0] = 0.0
        for j in range(n):
            v[j] = dist[src[0], dst[j]]
    elif n == 1:
        v[0] = 0.0
        for i in range(m):
            u[i] = dist[src[i], dst[0]]
    else:
        for i in range(m):
            u[i] = pot[i]
        for j in range(n):
            v[j] = pot[m + j]
    for i in range(m):
        g[src[i]] = -u[i]
    for j in range(n):
        g[dst[j]] = v[j]
    for k in range(N_TC):
        if side[k] == 0:
            best = np.inf
            for i in range(m):
                best = min(best, dist[src[i], k] - u[i])
            g[k] = best
    mean = g.sum() / N_TC
    for k in range(N_TC):
        g[k] -= mean


@njit(cache=True, parallel=True)
def _dual_rows(
    a: FloatArray, b: FloatArray, dist: FloatArray, out: FloatArray, grad: FloatArray,
    n_chunks: int,
) -> None:  # fmt: skip
    n_rows = a.shape[0]
    for c in prange(n_chunks):
        lo = c * n_rows // n_chunks
        hi = (c + 1) * n_rows // n_chunks
        ws = _workspace()
        for r in range(lo, hi):
            out[r] = _emd_row(a[r], b[r], dist, ws)
            _potential(a[r], b[r], dist, ws, grad[r])


@njit(cache=True)
def _dual_rows_serial(
    a: FloatArray, b: FloatArray, dist: FloatArray, out: FloatArray, grad: FloatArray
) -> None:
    # a training batch (~10^2 rows): on the calling thread, clear of torch's own threads
    ws = _workspace()
    for r in range(a.shape[0]):
        out[r] = _emd_row(a[r], b[r], dist, ws)
        _potential(a[r], b[r], dist, ws, grad[r])


def _distance(coords: npt.ArrayLike | None) -> FloatArray:
    xy = default_tc_coords() if coords is None else np.asarray(coords, dtype=np.float64)
    if xy.shape != (N_TC, 2) or not np.isfinite(xy).all():
        msg = f"coords must be the finite ({N_TC}, 2) TC centres (x, y), got shape {xy.shape}"
        raise ConfigError(msg)
    diff = xy[:, None, :] - xy[None, :, :]
    return np.ascontiguousarray(np.sqrt((diff**2).sum(axis=-1)))


def emd_with_potentials(
    a: npt.ArrayLike, b: npt.ArrayLike, coords: npt.ArrayLike | None = None
) -> tuple[FloatArray, FloatArray]:
    """EMD of each row (as :func:`hgcal_ae.metrics.emd.emd`) and its gradient in ``b``.

    Parameters
    ----------
    a, b : array_like, shape (N, 48)
        Input and reconstructed charges (non-negative; rows are normalised to unit sum).
    coords : array_like, shape (48, 2), optional
        TC centres; default the 8-inch LD wafer's [cm].

    Returns
    -------
    emd : ndarray (N,)
        In the units of ``coords``; Ecoder's sentinels -1 / -0.5 for an empty input / output.
    potential : ndarray (N, 48)
        ``d EMD / d (b / Σ b)``: the dual potential of the sinks' side, centred per row; zero
        for empty rows.
    """
    a_arr = check_charges(a, "a")
    b_arr = check_charges(b, "b")
    if a_arr.shape != b_arr.shape:
        msg = f"a and b must have the same shape, got a {a_arr.shape} and b {b_arr.shape}"
        raise ConfigError(msg)
    dist = _distance(coords)
    out = np.empty(a_arr.shape[0])
    grad = np.empty_like(a_arr)
    if out.size:
        _dual_rows(a_arr, b_arr, dist, out, grad, min(out.size, 8 * numba.get_num_threads()))
    return out, grad


class ExactEMD(torch.autograd.Function):
    """EMD of normalised rows ``p`` (target) and ``q`` (reconstruction) ``(N, 48)``, with the
    dual potentials as gradient (``-g`` for ``p``, ``g`` for ``q``); ``dist`` is unused by
    autograd (numpy (48, 48) ground distance)."""

    @staticmethod
    def forward(ctx: Any, p: torch.Tensor, q: torch.Tensor, dist: FloatArray) -> torch.Tensor:
        a = p.detach().to("cpu", torch.float64).numpy()
        b = q.detach().to("cpu", torch.float64).numpy()
        out = np.empty(a.shape[0])
        grad = np.empty_like(a)
        _dual_rows_serial(np.ascontiguousarray(a), np.ascontiguousarray(b), dist, out, grad)
        ctx.save_for_backward(torch.from_numpy(grad).to(q.device, q.dtype))
        return torch.from_numpy(out).to(q.device, q.dtype)

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[Any, ...]:
        (g,) = ctx.saved_tensors
        scaled = grad_out[:, None] * g
        return -scaled, scaled, None


def exact_emd(
    target: torch.Tensor, decoded: torch.Tensor, coords: npt.ArrayLike | None = None
) -> torch.Tensor:
    """EMD ``(N,)`` between the rows of ``target`` and ``decoded`` ``(N, 48)``, differentiable.

    Both are normalised to unit sum here (so the gradient is projected onto shape changes);
    rows whose target or decoded sum is 0 give 0 and no gradient.
    """
    if target.ndim != 2 or target.shape[1] != N_TC or decoded.shape != target.shape:
        msg = f"target and decoded must both be (N, {N_TC}), got {tuple(target.shape)} and {tuple(decoded.shape)}"
        raise ConfigError(msg)
    ok = (target.sum(dim=1) > 0) & (decoded.sum(dim=1) > 0)
    tiny = torch.finfo(decoded.dtype).tiny
    p = target / target.sum(dim=1, keepdim=True).clamp_min(tiny)
    q = decoded / decoded.sum(dim=1, keepdim=True).clamp_min(tiny)
    # torch types Function.apply without annotations; it returns forward's tensor
    value: torch.Tensor = ExactEMD.apply(p, q, _distance(coords))  # type: ignore[no-untyped-call]
    return torch.where(ok, value, torch.zeros_like(value))


def exact_emd_image_loss(y: torch.Tensor, y_hat: torch.Tensor) -> torch.Tensor:
    """Mean exact EMD [cm, 8-inch LD wafer] of module images ``(B, 1, 8, 8)`` (a module loss)."""
    return exact_emd(from_image_8x8(y[:, 0]), from_image_8x8(y_hat[:, 0])).mean()
