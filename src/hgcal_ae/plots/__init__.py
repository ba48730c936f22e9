"""Everything drawn: image grids, curves, GIFs and latent-space projections.

All figures are made on matplotlib's Agg canvas without pyplot, saved atomically, and
released; see :mod:`hgcal_ae.plots.style`.
"""

from __future__ import annotations

from hgcal_ae.plots.animation import training_gif
from hgcal_ae.plots.curves import cost_curve, latent_scan_plot
from hgcal_ae.plots.images import reconstruction_grid
from hgcal_ae.plots.latent import latent_projection, pca_2d
from hgcal_ae.plots.style import save_figure, use_style

__all__ = [
    "cost_curve",
    "latent_projection",
    "latent_scan_plot",
    "pca_2d",
    "reconstruction_grid",
    "save_figure",
    "training_gif",
    "use_style",
]
