"""The export extra's packages and the C++ compiler, each with a one-line error when missing.

The packages are imported here, by name, so that the rest of the package works without
the extra and a missing one is a clear :class:`ExportToolError` naming the pip command.
"""

from __future__ import annotations

import importlib
import shutil
from typing import Any

from hgcal_ae.errors import HgcalAeError

__all__ = ["PIP_COMMAND", "ExportToolError", "require_compiler", "require_package"]

PIP_COMMAND = "pip install 'hgcal-ae[export]'"
CXX = "g++"  # hls4ml's build_lib.sh calls g++ by name


class ExportToolError(HgcalAeError):
    """A package of the export extra, or the C++ compiler, is not installed."""


def require_package(name: str) -> Any:
    """Import ``name`` (``onnx``, ``onnxruntime``, ``hls4ml``, ...) or raise ExportToolError."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        msg = f"the export extra is not installed ({name} is missing: {exc}); install it with `{PIP_COMMAND}` (or `make setup`)"
        raise ExportToolError(msg) from exc


def require_compiler() -> str:
    """The path of ``g++``, which hls4ml's C++ emulation is compiled with, or ExportToolError."""
    path = shutil.which(CXX)
    if path is None:
        msg = f"no C++ compiler: hls4ml compiles its C++ emulation with {CXX}, which is not on PATH; install it (Debian/Ubuntu: `apt-get install g++`)"
        raise ExportToolError(msg)
    return path
