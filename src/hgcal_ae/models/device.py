"""Choosing the torch device: CUDA when present, or what the user asks for."""

from __future__ import annotations

import torch

from hgcal_ae.errors import ConfigError, DeviceError

__all__ = ["cuda_device_count", "resolve_device"]


def cuda_device_count() -> int:
    """Number of CUDA devices, asked without initialising CUDA in this process.

    ``torch.cuda.is_available()`` initialises the driver, after which a process forked from
    this one (a luigi worker with ``--workers`` > 1) cannot use CUDA at all ("Cannot
    re-initialize CUDA in forked subprocess").  ``torch.cuda.device_count()`` asks NVML first
    and leaves the process fork-safe.
    """
    built = torch.backends.cuda.is_built()  # type: ignore[no-untyped-call]  # unannotated in torch
    return torch.cuda.device_count() if built else 0


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
        return torch.device("cuda" if cuda_device_count() > 0 else "cpu")
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
    count = cuda_device_count()
    if count == 0:
        msg = f"device {name!r} requested but no CUDA GPU is available on this machine; use --device cpu or auto"
        raise DeviceError(msg)
    if device.index is not None and device.index >= count:
        msg = f"device {name!r} requested but only {count} CUDA device(s) exist"
        raise DeviceError(msg)
    return device
