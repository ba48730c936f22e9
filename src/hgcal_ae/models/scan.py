"""Latent-dimension scans: which latent size is good enough."""

from __future__ import annotations

from collections.abc import Sequence

from hgcal_ae.errors import ConfigError

__all__ = ["smallest_within_tolerance"]


def smallest_within_tolerance(points: Sequence[tuple[int, float]], tolerance: float) -> int:
    """The smallest latent dim whose loss is at most ``best * (1 + tolerance)``.

    Parameters
    ----------
    points
        ``(latent_dim, validation_loss)`` pairs.
    tolerance
        Relative tolerance, e.g. ``0.05`` for "within 5 % of the best loss".
    """
    if not points:
        msg = "a latent scan needs at least one (latent_dim, loss) point"
        raise ConfigError(msg)
    if tolerance < 0:
        msg = f"tolerance must be >= 0, got {tolerance!r}"
        raise ConfigError(msg)
    best = min(loss for _, loss in points)
    return min(dim for dim, loss in points if loss <= best * (1.0 + tolerance))
