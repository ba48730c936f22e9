"""The generated block of docs/hardware.md: the exported encoder, verified, and its resources.

``hardware-verification`` renders the ``summary.json`` files that ``hgcal-ae export`` writes
into ``<export dir>/<format>/`` (:func:`hgcal_ae.export.export_model`).  The run source is the
hls4ml export's summary; the onnx and weights exports beside it (same model) are read too,
and a format that was not exported is shown as such.  The block holds, per format, the
modules verified and the codes that differ from PyTorch's (and the ONNX decoder's largest
deviation), then what hls4ml builds without a vendor tool: parameters, on-chip weight bits,
multiplications per inference and the fixed-point types.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePath
from typing import Any

from hgcal_ae.errors import DataError
from hgcal_ae.study.page_context import BlockContext, Doc, Rendered, yes_no
from hgcal_ae.study.tables import markdown_table

__all__ = ["EXPORT_FORMATS", "hardware_verification"]

EXPORT_FORMATS = ("onnx", "hls4ml", "weights")

#: the fixed-point types of the hls4ml summary, in the encoder's order, with their names
_TYPES = (
    ("input", "inputs"),
    ("conv_weight", "conv weights"),
    ("conv_bias", "conv biases"),
    ("conv_accum", "conv accumulator"),
    ("relu", "ReLU output"),
    ("dense_weight", "dense weights"),
    ("dense_bias", "dense biases"),
    ("dense_accum", "dense accumulator"),
    ("latent", "latent code"),
)


def _read(path: Path, block: str) -> Doc | None:
    """The summary at ``path`` (None when that format was not exported)."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        msg = f"{path}: cannot be read as JSON ({exc}); rerun `hgcal-ae export`"
        raise DataError(msg) from None
    doc = Doc(data, str(path), block)
    if not isinstance(data, dict):
        raise doc.fail("is not a JSON object")
    return doc


def _model_shown(model: str) -> str:
    """The model's path from its ``study/`` folder on (the run's absolute path is local)."""
    parts = PurePath(model).parts
    starts = [i for i, p in enumerate(parts) if p == "study"]
    return "/".join(parts[starts[-1] :]) if starts else PurePath(model).name


def _source_shown(source: str) -> str:
    """The verification modules' description with a quoted file path shortened likewise."""
    return re.sub(r"'([^']+)'", lambda m: f"`{_model_shown(m.group(1))}`", source)


def _verification_row(fmt: str, s: Doc | None) -> dict[str, Any]:
    if s is None:
        return {"f": fmt, "n": "not exported", "c": "–", "m": "–", "d": "–", "ok": "–"}
    v = s["verification"]
    deviation = "–"
    if v.has("decoder_max_abs_deviation"):
        deviation = f"{v['decoder_max_abs_deviation'].number():.1e} (≤ {v['decoder_tolerance'].number():.0e})"
    n = v["modules"].integer()
    return {
        "f": fmt,
        "n": f"{n:,}",
        "c": f"{v['codes_differing'].integer():,} of {n * s['latent_dim'].integer():,}",
        "m": f"{v['modules_differing'].integer():,}",
        "d": deviation,
        "ok": yes_no(v["passed"].flag()),
    }


def _check_same_model(hls: Doc, other: Doc) -> None:
    if other["model"].text() != hls["model"].text():
        msg = (
            f"{other.file}: exports model {other['model'].text()!r}, but {hls.file} exports "
            f"{hls['model'].text()!r} (needed by the docs block {hls.block!r}); export every "
            "format of one model into the same folder"
        )
        raise DataError(msg)


def _resources(hls: Doc, weights: Doc | None) -> list[dict[str, str]]:
    r = hls["resources"]
    params = r["parameters"].integer()
    split = ""
    bits = "–"
    if weights is not None:
        w = weights["weights"]
        per = w["per_tensor"]
        split = (
            f" (conv {per['conv.weight'].integer():,} + {per['conv.bias'].integer():,}, "
            f"dense {per['dense.weight'].integer():,} + {per['dense.bias'].integer():,})"
        )
        bits = f"{w['bits_total'].integer():,} ({w['values'].integer():,} × {w['weight_bits'].integer()})"
        if not w["exact"].flag():
            bits += ", float weights rounded"
    conv, dense = r["conv_multiplications"].integer(), r["dense_multiplications"].integer()
    types = hls["fixed_point_types"]
    precision = ", ".join(f"{name} `{types[key].text()}`" for key, name in _TYPES)
    exact = "exact" if types["exact"].flag() else "float weights rounded, not exact"
    return [
        {"q": "parameters", "v": f"{params:,}{split}"},
        {"q": "on-chip weight bits", "v": bits},
        {"q": "multiplications per inference",
         "v": f"{r['multiplications'].integer():,}: conv {conv:,}, dense {dense:,}"},
        {"q": "fixed-point types", "v": f"{precision} ({exact})"},
        {"q": "hls4ml project", "v": f"{hls['backend'].text()} backend, "
                                     f"`{hls['io_type'].text()}`, `{hls['project_name'].text()}`"},
    ]  # fmt: skip


def hardware_verification(ctx: BlockContext) -> Rendered:
    """Verification counts of each exported format and the hls4ml encoder's resources."""
    hls = ctx.s
    assert ctx.summary_path is not None
    export_dir = ctx.summary_path.parent.parent
    found: dict[str, Doc | None] = {
        fmt: hls if fmt == "hls4ml" else _read(export_dir / fmt / "summary.json", hls.block)
        for fmt in EXPORT_FORMATS
    }
    for doc in found.values():
        if doc is not None and doc is not hls:
            _check_same_model(hls, doc)
    shown = PurePath(ctx.shown).parent.parent.as_posix()
    formats = ",".join(f for f, d in found.items() if d is not None)
    weights = "6-bit" if hls["quantised_weights"].flag() else "float"
    details = (
        f"model `{_model_shown(hls['model'].text())}`: latent {hls['latent_dim'].integer()} × "
        f"{hls['latent_bits'].integer()} bits, {hls['filters'].integer()} filters, {weights} "
        f"weights; verification modules: {_source_shown(hls['verification_modules'].text())}"
    )
    header = (
        f"_Generated by `hgcal-ae docs` from `{shown}/{{{formats}}}/summary.json`, written by "
        f"`{ctx.command}` for each format ({details})._\n\n"
    )
    rows = [_verification_row(fmt, doc) for fmt, doc in found.items()]
    verification = markdown_table(rows, (
        ("f", "format"), ("n", "modules verified"), ("c", "codes differing"),
        ("m", "modules differing"), ("d", "decoder max deviation"), ("ok", "passed"),
    ))  # fmt: skip
    resources = markdown_table(
        _resources(hls, found["weights"]), (("q", "quantity"), ("v", "value"))
    )
    return Rendered(header + verification + "\n" + resources)
