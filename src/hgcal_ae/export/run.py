"""One export of a trained module AE: write a format, verify it, write ``summary.json``.

Public API::

    export_model(model, fmt, output_dir, *, verify=1000, modules=None, seed=0) -> dict

Everything is written into a temporary folder beside ``output_dir/<fmt>`` and renamed into
place when the export and its verification are done, so a failed or killed export leaves
no ``<fmt>`` folder that looks complete (an older one stays until the new one replaces it).
"""

from __future__ import annotations

import importlib.metadata
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hgcal_ae.atomic import ensure_dir, write_json
from hgcal_ae.errors import ConfigError, OutputError
from hgcal_ae.export.encoder import latent_codes, load_model, model_file
from hgcal_ae.export.modules import verification_images
from hgcal_ae.export.tools import require_compiler, require_package
from hgcal_ae.models.module_ae import ModuleAutoencoder

__all__ = ["FORMATS", "export_model", "verification_passed"]

FORMATS = ("onnx", "hls4ml", "weights")
TESTBENCH_MODULES = 1000  # verification modules written as the hls4ml project's test vectors
_PACKAGES = {"onnx": ("onnx", "onnxruntime"), "hls4ml": ("hls4ml",), "weights": ()}


def _versions(names: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for name in ("torch", *names):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover - checked before
            out[name] = "unknown"
    return out


def _new_folder(parent: Path, prefix: str) -> Path:
    """A new empty folder in ``parent`` with the permissions the umask gives (unlike mkdtemp's
    0700), as ``mkdir`` would create it."""
    for _ in range(100):
        folder = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            folder.mkdir(mode=0o777)
        except FileExistsError:
            continue
        return folder
    msg = f"cannot find a free temporary folder name in {str(parent)!r}"
    raise OutputError(msg)


@contextmanager
def _staged(final: Path) -> Iterator[Path]:
    """A temporary folder beside ``final``, renamed to ``final`` when the block succeeds."""
    ensure_dir(final.parent)
    tmp = _new_folder(final.parent, f".tmp-{final.name}-")
    try:
        yield tmp
        old = None
        if final.exists():
            old = _new_folder(final.parent, f".old-{final.name}-")
            os.replace(final, old / final.name)
        os.replace(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _onnx(ae: ModuleAutoencoder, folder: Path, images: npt.NDArray[np.float32]) -> dict[str, Any]:
    from hgcal_ae.export.onnx_export import export_onnx, verify_onnx

    conventions = export_onnx(ae, folder)
    return {"files": ["encoder.onnx", "decoder.onnx", "onnx.json"], "opset": conventions["opset"],
            "verification": verify_onnx(ae, folder, images)}  # fmt: skip


def _hls4ml(ae: ModuleAutoencoder, folder: Path, images: npt.NDArray[np.float32]) -> dict[str, Any]:
    from hgcal_ae.export.hls import (
        BACKEND,
        IO_TYPE,
        PROJECT_NAME,
        encoder_resources,
        export_hls4ml,
        verify_hls4ml,
    )

    project = export_hls4ml(ae, folder / "project", testbench=images[:TESTBENCH_MODULES])
    return {"files": ["project/"], "backend": BACKEND, "io_type": IO_TYPE,
            "project_name": PROJECT_NAME, "fixed_point_types": project.types.as_dict(),
            "resources": encoder_resources(ae),
            "verification": verify_hls4ml(ae, project, images)}  # fmt: skip


def _weights(
    ae: ModuleAutoencoder, folder: Path, images: npt.NDArray[np.float32]
) -> dict[str, Any]:
    from hgcal_ae.export.weights import export_weights, read_weights, weights_codes

    summary = export_weights(ae, folder)
    codes = weights_codes(read_weights(folder / "weights.json"), images, ae.config.latent_bits)
    differ = codes != latent_codes(ae, images)
    return {"files": ["weights.json", "weights.csv"], "weights": summary,
            "verification": {"modules": len(images), "codes_differing": int(differ.sum()),
                             "modules_differing": int(differ.any(axis=1).sum()),
                             "exact": not bool(differ.any())}}  # fmt: skip


_WRITERS: dict[str, Callable[[ModuleAutoencoder, Path, npt.NDArray[np.float32]], dict[str, Any]]]
_WRITERS = {"onnx": _onnx, "hls4ml": _hls4ml, "weights": _weights}


def verification_passed(summary: dict[str, Any]) -> bool:
    """Whether an export's verification found every code equal (and the ONNX decoder within
    its tolerance)."""
    check = summary["verification"]
    return bool(check["exact"] and check.get("decoder_ok", True))


def export_model(
    model: str | os.PathLike[str],
    fmt: str,
    output_dir: str | os.PathLike[str],
    *,
    verify: int = 1000,
    modules: str | os.PathLike[str] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Export the module AE at ``model`` (``model.pt`` or its folder) as ``fmt`` into
    ``output_dir/<fmt>/``, verify it on ``verify`` modules and write ``summary.json`` there.

    Parameters
    ----------
    modules
        A trigger-cell file (a study's ``trigger_cells.h5``) whose first non-empty modules
        are the verification modules; None: generated modules (seed ``seed``).

    Raises
    ------
    ConfigError
        For an unknown format or ``verify < 1``.
    ExportToolError
        If the format's packages (the export extra) or g++ (hls4ml) are missing.
    DataError
        If ``model`` is not a module-AE checkpoint, or ``modules`` not a trigger-cell file.
    """
    if fmt not in FORMATS:
        msg = f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}"
        raise ConfigError(msg)
    if isinstance(verify, bool) or not isinstance(verify, int) or verify < 1:
        msg = f"--verify needs a positive number of modules, got {verify!r}"
        raise ConfigError(msg)
    for package in _PACKAGES[fmt]:
        require_package(package)
    if fmt == "hls4ml":
        require_compiler()
    path = model_file(model)
    ae = load_model(path)
    images, source = verification_images(verify, modules=modules, seed=seed)
    final = Path(output_dir) / fmt
    start = time.perf_counter()
    with _staged(final) as folder:
        result = _WRITERS[fmt](ae, folder, images)
        cfg = ae.config
        summary = {
            "command": "hgcal-ae export",
            "model": str(path.resolve()),
            "format": fmt,
            "latent_dim": cfg.latent_dim,
            "latent_bits": cfg.latent_bits,
            "filters": cfg.filters,
            "quantised_weights": cfg.quantised_weights,
            "weight_bits": cfg.weight_bits,
            "verification_modules": source,
            **result,
            "versions": _versions(_PACKAGES[fmt]),
            "seconds": round(time.perf_counter() - start, 2),
        }
        summary["verification"]["passed"] = verification_passed(summary)
        write_json(folder / "summary.json", summary)
    summary["output"] = str(final)
    return summary
