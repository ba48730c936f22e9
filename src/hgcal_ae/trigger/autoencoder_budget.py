"""The autoencoder's output budget on the ECON-T e-links (econt.md §1, EMU Formatter).

The AE frame is a 5-bit BX header, a 9-bit 5E4M module sum and min(18 + 32·(n − 1), 146)
latent bits: 64/96/128/160 bits at 2/3/4/5 e-links.  A latent code of ``latent_dim`` values of
``bits`` bits must fit in it; :func:`check_autoencoder_fits` says so, or says what would fit.
"""

from __future__ import annotations

import numpy as np

from hgcal_ae.errors import ConfigError
from hgcal_ae.trigger.baselines import ELINK_BITS, check_elinks

__all__ = [
    "AE_HEADER_BITS",
    "AE_MAX_LATENT_BITS",
    "AE_SUM_BITS",
    "autoencoder_bits",
    "autoencoder_frame_bits",
    "autoencoder_latent_bits_available",
    "check_autoencoder_fits",
]

AE_HEADER_BITS = 5  #: AE: BX header (EMU format_AutoencoderOutput)
AE_SUM_BITS = 9  #: AE: 5E4M module sum (EMU ASICBlocks/Autoencoder.py)
AE_MAX_LATENT_BITS = 146  #: AE: cap of min(18 + 32·(n − 1), 146) (EMU Formatter)


def autoencoder_bits(
    latent_dim: int,
    bits_per_latent: int,
    header_bits: int = AE_HEADER_BITS,
    sum_bits: int = AE_SUM_BITS,
) -> int:
    """Autoencoder output length: header + 9-bit 5E4M sum + latent_dim · bits_per_latent.

    62/94/126/158 bits for 16 latent values of 3/5/7/9 bits (econt.md §1, EMU Formatter);
    the frame padded to the e-links is :func:`autoencoder_frame_bits`.
    """
    for label, value in (("latent_dim", latent_dim), ("bits_per_latent", bits_per_latent)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            msg = f"expected {label} to be an integer >= 1, got {value!r}"
            raise ConfigError(msg)
    return header_bits + sum_bits + latent_dim * bits_per_latent


def autoencoder_latent_bits_available(n_elinks: int) -> int:
    """Latent bits the AE frame carries: min(18 + 32·(n_elinks − 1), 146) (EMU Formatter)."""
    return min(18 + ELINK_BITS * (check_elinks(n_elinks) - 1), AE_MAX_LATENT_BITS)


def autoencoder_frame_bits(n_elinks: int) -> int:
    """AE frame: 5-bit header + 9-bit sum + latent bits = 64/96/128/160 at 2–5 e-links (econt.md §1)."""
    return AE_HEADER_BITS + AE_SUM_BITS + autoencoder_latent_bits_available(n_elinks)


def check_autoencoder_fits(latent_dim: int, bits_per_latent: int, n_elinks: int) -> int:
    """Check that a latent code fits the AE frame of ``n_elinks``; return its output bits.

    Raises
    ------
    ConfigError
        If ``latent_dim · bits_per_latent`` exceeds
        :func:`autoencoder_latent_bits_available`, with the largest width that fits and the
        e-links that would carry it.
    """
    total = autoencoder_bits(latent_dim, bits_per_latent)
    need = latent_dim * bits_per_latent
    available = autoencoder_latent_bits_available(n_elinks)
    if need <= available:
        return total
    hints = [f"use at most {available // latent_dim} bits per latent value"] * (
        available >= latent_dim
    )
    n_min = -(-max(need - 18, 0) // ELINK_BITS) + 1  # inverse of 18 + 32·(n − 1) >= need
    if need <= AE_MAX_LATENT_BITS:
        hints.append(f"use {n_min} e-links")
    else:
        hints.append(
            f"reduce the latent size: no setting carries more than {AE_MAX_LATENT_BITS} latent bits"
        )
    s = "" if n_elinks == 1 else "s"
    msg = (
        f"latent {latent_dim} × {bits_per_latent} bits = {need} bits does not fit {n_elinks} e-link{s} "
        f"({available} latent bits available beside the 5-bit header and 9-bit sum, "
        f"min(18 + 32·(n − 1), 146), EMU Formatter); {' or '.join(hints)}"
    )
    raise ConfigError(msg)
