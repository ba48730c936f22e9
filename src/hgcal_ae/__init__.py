"""hgcal-ae: autoencoder study toolkit for the CMS HGCAL Level-1 trigger."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
