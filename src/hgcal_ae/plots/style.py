"""House style and figure handling shared by every plot of the package.

Figures are plain :class:`matplotlib.figure.Figure` objects with an Agg canvas: no pyplot
global state, no window, safe in luigi worker processes.  Pixel sizes are fixed by
``figsize * dpi`` (no ``bbox_inches="tight"``), so frames of one series match exactly.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.typing import RcKeyType

from hgcal_ae.atomic import atomic_path

__all__ = [
    "DEFAULT_DPI",
    "HOUSE_RC",
    "house_style",
    "new_figure",
    "one_axes_figure",
    "save_figure",
    "use_style",
]

DEFAULT_DPI = 100

#: rcParams of the house style: readable sizes, light grid, opaque white background.
HOUSE_RC: dict[RcKeyType, Any] = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 12,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.frameon": False,
    "figure.titlesize": 13,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linestyle": ":",
    "lines.linewidth": 1.8,
    "lines.markersize": 6,
    "figure.dpi": DEFAULT_DPI,
    "savefig.dpi": "figure",
    "savefig.facecolor": "white",
    "figure.facecolor": "white",
}


def use_style() -> None:
    """Apply the house style to matplotlib's global rcParams (scripts, notebooks).

    The backend is left alone.  The package's own plotting functions do not rely on this:
    they apply the same settings locally with :func:`house_style`.
    """
    matplotlib.rcParams.update(HOUSE_RC)


@contextmanager
def house_style() -> Iterator[None]:
    """Context in which new artists are made with the house style; rcParams restored after."""
    with matplotlib.rc_context(HOUSE_RC):
        yield


def new_figure(
    figsize: tuple[float, float],
    *,
    dpi: float = DEFAULT_DPI,
    layout: Literal["constrained", "compressed", "tight", "none"] | None = "constrained",
) -> Figure:
    """Return a new figure of ``figsize`` inches at ``dpi``, drawn by an Agg canvas.

    ``layout`` is passed to :class:`~matplotlib.figure.Figure` (``"constrained"`` by default,
    ``"none"`` for figures that place their axes by hand).
    """
    # matplotlib's stub of Figure() leaves out the documented "none" (set_layout_engine has it)
    fig = Figure(figsize=figsize, dpi=dpi, layout=layout)  # type: ignore[arg-type]
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: float | None = None) -> Path:
    """Save ``fig`` atomically to ``path`` and release it.

    Parameters
    ----------
    fig
        The figure; it is cleared after saving (and closed if pyplot manages it), even when
        saving fails.
    path
        Destination; the format follows its suffix (``.png``, ``.pdf``, ``.svg``).  The folder
        is created if needed.
    dpi
        Resolution in dots per inch; ``None`` keeps the figure's own, so the image is
        ``figsize * fig.dpi`` pixels.

    Returns
    -------
    Path
        ``path``.
    """
    final = Path(path)
    try:
        with atomic_path(final) as tmp:
            fig.savefig(tmp, dpi="figure" if dpi is None else dpi)
    finally:
        _close(fig)
    return final


def one_axes_figure(
    path: str | os.PathLike[str],
    draw: Callable[[Axes], object],
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    from_zero: bool = False,
    legend: Mapping[str, Any] | None = None,
) -> Path:
    """A 6.4 x 4.6 inch figure of one axes in the house style, saved atomically to ``path``.

    ``draw(ax)`` draws the data; then the axis labels, the y axis from 0 if ``from_zero``,
    the title and the legend (``legend``: options of ``Axes.legend``) are set.
    """
    with house_style():
        fig = new_figure((6.4, 4.6))
        ax = fig.add_subplot()
        draw(ax)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if from_zero:
            ax.set_ylim(bottom=0)
        ax.set_title(title)
        ax.legend(**(legend or {}))
    return save_figure(fig, path)


def _close(fig: Figure) -> None:
    """Free the figure; a figure made through pyplot is also removed from pyplot's registry."""
    if getattr(fig.canvas, "manager", None) is not None:
        import matplotlib.pyplot as plt  # only reached for figures pyplot already owns

        plt.close(fig)
    fig.clear()
