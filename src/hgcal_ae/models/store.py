"""Saving and loading trained image autoencoders (``model.pt``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from hgcal_ae.errors import DataError
from hgcal_ae.models.autoencoders import ImageAutoencoder, build_autoencoder
from hgcal_ae.models.training import EpochRecord, TrainingConfig, TrainingResult, save_torch

__all__ = ["encode_images", "images_to_tensor", "load_trained", "save_trained"]


def images_to_tensor(images: npt.NDArray[np.uint8]) -> torch.Tensor:
    """``uint8`` images ``(N, 28, 28)`` → float tensor ``(N, 1, 28, 28)`` in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).float().div_(255.0).unsqueeze(1)


@torch.no_grad()
def encode_images(
    model: ImageAutoencoder, images: torch.Tensor, batch_size: int = 2000
) -> npt.NDArray[np.float32]:
    """Latent codes ``(N, latent_dim)`` of ``images`` under ``model``'s encoder."""
    device = next(model.parameters()).device
    model.eval()
    parts = [
        model.encode(images[i : i + batch_size].to(device)).cpu()
        for i in range(0, len(images), batch_size)
    ]
    return torch.cat(parts).numpy()


def save_trained(path: Path, result: TrainingResult, **extra: Any) -> Path:
    """Write weights, configuration, history and snapshots of a finished run atomically.

    Raises
    ------
    OutputError
        If the folder cannot be written or the disk is full ("no space left on device
        writing '<path>'..."); nothing is left at ``path``.
    """
    payload = {
        "config": dataclasses.asdict(result.config),
        "state_dict": {k: v.cpu() for k, v in result.model.state_dict().items()},
        "history": [dataclasses.asdict(r) for r in result.history],
        "snapshots": result.snapshots,
        "resumed_from": result.resumed_from,
        "torch_version": torch.__version__,
        **extra,
    }
    return save_torch(path, payload)


def load_trained(
    path: Path, device: torch.device | str = "cpu"
) -> tuple[ImageAutoencoder, TrainingResult, dict[str, Any]]:
    """Load ``model.pt``: the model (in eval mode), its :class:`TrainingResult`, the raw payload."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
        config = TrainingConfig(**payload["config"])
        model = build_autoencoder(config.arch, config.latent_dim)
        model.load_state_dict(payload["state_dict"])
    except (OSError, KeyError, RuntimeError, EOFError, TypeError) as exc:
        msg = f"cannot load trained model {str(path)!r}: {exc}"
        raise DataError(msg) from exc
    model.to(device).eval()
    result = TrainingResult(
        model=model,
        config=config,
        history=[EpochRecord(**r) for r in payload["history"]],
        snapshots=np.asarray(payload["snapshots"]),
        resumed_from=int(payload.get("resumed_from", 0)),
    )
    return model, result, payload
