"""The ``hgcal-ae`` command: a friendly front for the workflows.

Every error the package raises on purpose ends here as one line on stderr and a non-zero
exit status (2 for a bad option value, 1 for anything else).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from hgcal_ae import __version__
from hgcal_ae.cli import (
    beamtest,
    compare,
    docs,
    export,
    merging,
    mnist,
    scaling,
    simulation,
    study,
)
from hgcal_ae.errors import ConfigError, HgcalAeError

__all__ = ["build_parser", "main"]

COMMANDS = (study, compare, merging, scaling, mnist, simulation, beamtest, docs, export)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hgcal-ae", description="Autoencoder studies for the HGCAL L1 trigger."
    )
    parser.add_argument("--version", action="version", version=f"hgcal-ae {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hgcal-ae`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ConfigError as exc:
        print(f"hgcal-ae: error: {exc}", file=sys.stderr)
        return 2
    except HgcalAeError as exc:
        print(f"hgcal-ae: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("hgcal-ae: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
