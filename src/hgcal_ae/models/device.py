"""Choosing the torch device: CUDA when present, or what the user asks for."""

from __future__ import annotations

import torch

from hgcal_ae.errors import ConfigError, DeviceError

__all__ = ["resolve_device"]


def resolve_device(name: str = "auto") -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` into a usable device.

    ``"auto"`` picks the first CUDA device when one is present, else the CPU.

    Raises
    ------
    DeviceError
        If CUDA is asked for and no (such) GPU is present.
    ConfigError
        For a name that is not a device.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        msg = f"unknown device {name!r}; expected auto, cpu, cuda or cuda:N"
        raise ConfigError(msg) from None
    if device.type == "cpu":
        return device
    if device.type != "cuda":
        msg = f"unsupported device {name!r}; expected auto, cpu, cuda or cuda:N"
        raise ConfigError(msg)
    if not torch.cuda.is_available():
        msg = f"device {name!r} requested but no CUDA GPU is available on this machine; use --device cpu or auto"
        raise DeviceError(msg)
    if device.index is not None and device.index >= torch.cuda.device_count():
        msg = f"device {name!r} requested but only {torch.cuda.device_count()} CUDA device(s) exist"
        raise DeviceError(msg)
    return device
