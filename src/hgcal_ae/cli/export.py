"""``hgcal-ae export``: a trained module AE to ONNX, hls4ml or the on-chip weight format.

    hgcal-ae export output/study/default/<config>/autoencoders/latent16_bits5 --format onnx \\
        --output-dir export --verify 100000

writes ``export/onnx/`` (or ``hls4ml/``, ``weights/``) with a ``summary.json`` and prints
how many of the verification modules' codes differ from PyTorch's; a verification that
finds differing codes exits 1 (the files stay, with the counts in the summary).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

__all__ = ["add_parsers"]


# hgcal_ae.export.run.FORMATS, written out so that building the parser imports no torch
FORMATS = ("onnx", "hls4ml", "weights")


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="export a trained module AE's encoder to ONNX, hls4ml or on-chip weights, verified",
        description="Export a study's module autoencoder for hardware and verify that the "
        "exported encoder makes exactly PyTorch's latent codes.",
    )
    p.add_argument("model", help="a study's model.pt, or the folder holding one")
    p.add_argument(
        "--format", required=True, dest="fmt", metavar="{" + ",".join(FORMATS) + "}",
        help="onnx: encoder.onnx + decoder.onnx; hls4ml: a Vitis io_parallel project, compiled "
        "with g++; weights: the integer on-chip weights (JSON, CSV)",
    )  # fmt: skip
    p.add_argument(
        "--output-dir",
        default=os.path.join(os.environ.get("OUTPUT_DIR") or "output", "export"),
        help="the export goes into OUTPUT_DIR/<format>/ (default $OUTPUT_DIR/export, where "
        "`hgcal-ae docs` reads it, or ./output/export)",
    )
    p.add_argument(
        "--verify", type=int, default=1000, metavar="N",
        help="modules to compare with PyTorch's codes (default 1000)",
    )  # fmt: skip
    p.add_argument(
        "--modules", default=None, metavar="H5",
        help="verify on the first N non-empty modules of this trigger_cells.h5, or of several "
        "separated by commas, read in turn (default: N generated shower-like modules)",
    )  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="seed of the generated modules")
    p.set_defaults(handler=_export)


def _export(args: argparse.Namespace) -> int:
    from hgcal_ae.export.run import export_model

    summary = export_model(
        args.model, args.fmt, args.output_dir, verify=args.verify, modules=args.modules,
        seed=args.seed,
    )  # fmt: skip
    check = summary["verification"]
    print(f"exported {args.fmt} to {summary['output']}")
    line = f"verification on {summary['verification_modules']}: {check['codes_differing']} of {check['modules'] * summary['latent_dim']} codes differ ({check['modules_differing']} modules)"
    if "decoder_max_abs_deviation" in check:
        line += f"; decoder max |ONNX - PyTorch| {check['decoder_max_abs_deviation']:.2e}"
    print(line)
    if not check["passed"]:
        hint = (
            ""
            if summary["quantised_weights"]
            else "; a model with float weights is not exact (sums rounded in another order or to "
            "fewer bits): train it with `hgcal-ae study --quantised-weights`"
        )
        print(f"hgcal-ae: error: the exported {args.fmt} encoder differs from PyTorch ({check['codes_differing']} codes); see {summary['output']}/summary.json{hint}", file=sys.stderr)  # fmt: skip
        return 1
    return 0
