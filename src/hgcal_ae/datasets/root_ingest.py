"""Ingest the 2018 CE-E beam-test ROOT ntuples into the events HDF5 format.

The ntuples of the 2018 HGCAL beam tests (the ``rechitntupler`` analyzer) hold one TTree,
``rechitntupler/hits``, with one entry per triggered event:

==================  ==================  ==============================================
branch              type                meaning
==================  ==================  ==============================================
``event``           int                 event number (kept as ``event_id``)
``beamEnergy``      float               nominal beam energy [GeV]; older/newer
                                        productions name it ``trueBeamEnergy``
``rechit_layer``    int[] (jagged)      layer of each reconstructed hit (1-based)
``rechit_x/y/z``    float[] (jagged)    hit position [cm]
``rechit_energy``   float[] (jagged)    hit energy [MIP]
==================  ==================  ==============================================

:func:`ingest_root` reads them chunk by chunk (``TTree.iterate``, so memory stays flat),
keeps only the hits of the electromagnetic section, **CE-E: 1 <= layer <= max_layer
(28)** — hits of the hadronic section behind it (layers 29..40 in the October 2018 setup)
are dropped — and streams :class:`~hgcal_ae.datasets.event_batch.EventBatch` es into an
:class:`~hgcal_ae.datasets.events.EventWriter`.  Beam-test data carry no truth: ``pdg`` is
0, the impact point and angles are NaN and ``cell`` is -1.  The output is written
atomically: on any error nothing is left at ``output``.

Public API::

    ingest_root(sources, output, *, step_size="50 MB", max_layer=28) -> dict
    find_root_files(sources) -> list[Path]
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import uproot

from hgcal_ae.datasets.event_batch import EventBatch
from hgcal_ae.datasets.events import EventWriter
from hgcal_ae.detector.layers import N_LAYERS
from hgcal_ae.errors import ConfigError, DataError, SchemaError

__all__ = [
    "ENERGY_BRANCHES",
    "HIT_BRANCHES",
    "REQUIRED_BRANCHES",
    "ROOT_TREE",
    "find_root_files",
    "ingest_root",
]

ROOT_TREE = "rechitntupler/hits"
EVENT_BRANCH = "event"
#: Beam-energy branch names, in order of preference; a file needs one of them.
ENERGY_BRANCHES = ("beamEnergy", "trueBeamEnergy")
#: Jagged per-hit branch -> EventBatch field.
HIT_BRANCHES = {
    "rechit_layer": "layer",
    "rechit_x": "x_cm",
    "rechit_y": "y_cm",
    "rechit_z": "z_cm",
    "rechit_energy": "energy_mip",
}
#: Branches every file must have (besides one of :data:`ENERGY_BRANCHES`).
REQUIRED_BRANCHES = (EVENT_BRANCH, *HIT_BRANCHES)
CE_E_LAYERS = N_LAYERS  # the ingest keeps the CE-E layers 1..28

# uproot raises many types on a file that is not ROOT, truncated or corrupt (OSError for a
# short read, ValueError, EOFError, struct.error, zlib.error, its DeserializationError, and
# KeyError/IndexError/TypeError from deep inside an RNTuple footer): every exception of a
# read is one, except the package's own.
_READ_ERRORS = (Exception,)
_EXPECTED = f"expected a TTree or RNTuple {ROOT_TREE!r} readable by uproot"
# uproot's own pattern for memory sizes such as "50 MB" or "1.5 GiB".
_MEMORY_SIZE = re.compile(
    r"^\s*[+]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?\s*[kmgtpezy]?i?b\s*$", re.IGNORECASE
)


def find_root_files(
    sources: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> list[Path]:
    """Expand ``sources`` into ROOT files: a file, a directory (its ``*.root``, sorted) or a list.

    Raises
    ------
    DataError
        If a source does not exist, or no ROOT file is found at all.
    """
    items = [sources] if isinstance(sources, str | os.PathLike) else list(sources)
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.glob("*.root") if p.is_file())
            if not found:
                msg = f"ROOT source directory {str(path)!r} holds no *.root files"
                raise DataError(msg)
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            msg = f"ROOT source {str(path)!r} does not exist"
            raise DataError(msg)
    if not files:
        msg = "no ROOT files given; pass a .root file, a directory of them or a list"
        raise DataError(msg)
    return files


def _oneline(exc: BaseException) -> str:
    """uproot's messages span lines (the CLI prints one); some are empty: name the type."""
    kind = type(exc)
    name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
    text = " ".join(str(exc).split()).rstrip(".,;:")
    return f"{name}: {text}" if text else name


def _unreadable(path: Path, exc: BaseException) -> DataError:
    """One sentence: the file, what went wrong, what was expected."""
    msg = f"{_describe(path)} cannot be read ({_oneline(exc)}); it may be truncated or corrupt — {_EXPECTED}"
    return DataError(msg)


def _describe(path: Path) -> str:
    return f"ROOT file {str(path)!r}"


@contextmanager
def _open_tree(path: Path) -> Iterator[tuple[Any, str, int]]:
    """Open ``path`` and check the tree and branches; yield ``(tree, energy_branch, n_entries)``.

    Raises
    ------
    DataError
        If the file cannot be read (not ROOT, truncated, corrupt), in one sentence naming
        the file and what was expected.
    SchemaError
        If the tree or a branch is missing.
    """
    try:
        file = uproot.open(path)
    except _READ_ERRORS as exc:
        msg = f"{_describe(path)} is not a readable ROOT file ({_oneline(exc)}); it may be truncated or of another format — {_EXPECTED}"
        raise DataError(msg) from exc
    with file:
        try:
            tree = file[ROOT_TREE]
        except uproot.KeyInFileError as exc:
            msg = f"{_describe(path)} has no tree {ROOT_TREE!r}; is it a rechitntupler beam-test ntuple?"
            raise SchemaError(msg) from exc
        except _READ_ERRORS as exc:
            raise _unreadable(path, exc) from exc
        if not isinstance(tree, uproot.behaviors.TTree.TTree | uproot.behaviors.RNTuple.RNTuple):
            msg = f"{_describe(path)}: {ROOT_TREE!r} is a {type(tree).__name__}, expected a TTree or RNTuple"
            raise SchemaError(msg)
        try:
            # An RNTuple reads its header and footer only now: a truncated one fails here.
            names = set(tree.keys())
            n_entries = int(tree.num_entries)
        except _READ_ERRORS as exc:
            raise _unreadable(path, exc) from exc
        for branch in REQUIRED_BRANCHES:
            if branch not in names:
                msg = f"{_describe(path)} has no branch {branch!r} in tree {ROOT_TREE!r}"
                raise SchemaError(msg)
        energy = next((b for b in ENERGY_BRANCHES if b in names), None)
        if energy is None:
            msg = f"{_describe(path)} has neither branch {ENERGY_BRANCHES[0]!r} nor {ENERGY_BRANCHES[1]!r} in tree {ROOT_TREE!r}; one is needed for the beam energy"
            raise SchemaError(msg)
        yield tree, energy, n_entries


def _chunks(path: Path, tree: Any, branches: list[str], step_size: int | str) -> Iterator[ak.Array]:
    """``tree.iterate`` with read errors turned into :class:`DataError` naming the file."""
    try:
        chunks = tree.iterate(filter_name=branches, step_size=step_size, library="ak")
    except _READ_ERRORS as exc:
        raise _unreadable(path, exc) from exc
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        except _READ_ERRORS as exc:
            raise _unreadable(path, exc) from exc
        yield chunk


def _to_batch(chunk: ak.Array, energy: str, max_layer: int, path: Path) -> tuple[EventBatch, int]:
    """Convert one chunk of the tree; return the batch and the number of hits dropped."""
    for branch in (EVENT_BRANCH, energy):
        if chunk[branch].ndim != 1:
            msg = f"{_describe(path)}: branch {branch!r} must hold one number per event, got type {chunk[branch].type}"
            raise SchemaError(msg)
    layer = chunk["rechit_layer"]
    counts = ak.num(layer, axis=1) if layer.ndim == 2 else None
    for branch in HIT_BRANCHES:
        if chunk[branch].ndim != 2 or not ak.all(ak.num(chunk[branch], axis=1) == counts):
            msg = f"{_describe(path)}: branch {branch!r} must hold one list of hits per event, as many as 'rechit_layer', got type {chunk[branch].type}"
            raise SchemaError(msg)
    keep = (layer >= 1) & (layer <= max_layer)
    kept = ak.to_numpy(ak.num(layer[keep], axis=1))
    hits = {
        field: ak.to_numpy(ak.flatten(chunk[branch][keep]))
        for branch, field in HIT_BRANCHES.items()
    }
    batch = EventBatch.from_counts(
        kept,
        event_id=ak.to_numpy(chunk[EVENT_BRANCH]),
        true_energy_gev=ak.to_numpy(chunk[energy]),
        **hits,
    )
    return batch, int(ak.sum(counts)) - batch.n_hits


def _check_options(step_size: int | str, max_layer: int) -> None:
    valid_int = (
        isinstance(step_size, int | np.integer)
        and not isinstance(step_size, bool)
        and step_size >= 1
    )
    if not (valid_int or (isinstance(step_size, str) and _MEMORY_SIZE.match(step_size))):
        msg = f"step_size must be a number of events >= 1 or a memory size such as '50 MB', got {step_size!r}"
        raise ConfigError(msg)
    int16_max = int(np.iinfo(np.int16).max)
    if (
        isinstance(max_layer, bool)
        or not isinstance(max_layer, int | np.integer)
        or not 1 <= max_layer <= int16_max
    ):
        msg = f"max_layer must be an integer 1..{int16_max} ({CE_E_LAYERS} keeps the CE-E), got {max_layer!r}"
        raise ConfigError(msg)


def ingest_root(
    sources: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    step_size: int | str = "50 MB",
    max_layer: int = CE_E_LAYERS,
) -> dict[str, Any]:
    """Convert beam-test ntuples into one events HDF5 file (schema v1).

    Parameters
    ----------
    sources
        A ``.root`` file, a directory (all ``*.root`` inside, in sorted order) or a list
        of either; files are read in that order.
    output
        The events file to write (atomically).
    step_size
        Chunk size for ``TTree.iterate``: a number of events or a memory size (``"50 MB"``).
    max_layer
        Hits with ``1 <= rechit_layer <= max_layer`` are kept (28: the CE-E).

    Returns
    -------
    dict
        ``n_events``, ``n_hits`` (kept), ``n_hits_dropped`` (outside the layer range),
        ``output`` (str), ``energy_branch`` (the branch used, ``None`` if the files
        differ), ``energy_branches`` (per file) and ``source_files``.

    Raises
    ------
    DataError
        If no ROOT file is found, or one is not ROOT, truncated or corrupt.
    SchemaError
        If a file lacks the tree, a required branch, or both energy branches.
    ConfigError
        On a bad ``step_size`` or ``max_layer``.
    """
    _check_options(step_size, max_layer)
    files = find_root_files(sources)
    # First pass: headers only, so that a bad file anywhere fails before any data is read.
    energies: list[str] = []
    n_entries = 0
    for path in files:
        with _open_tree(path) as (_, energy, entries):
            energies.append(energy)
            n_entries += entries
    energy_branch = energies[0] if len(set(energies)) == 1 else None
    metadata = {
        "source": "beam-test ROOT ntuple (rechitntupler)",
        "source_files": [str(p) for p in files],
        "tree": ROOT_TREE,
        "energy_branch": energy_branch,
        "energy_branches": energies,
        "layer_selection": f"1 <= rechit_layer <= {int(max_layer)} (CE-E)",
        "max_layer": int(max_layer),
        "n_events": n_entries,
    }
    dropped = 0
    with EventWriter(output, metadata) as writer:
        for path in files:
            with _open_tree(path) as (tree, energy, _):
                branches = [EVENT_BRANCH, energy, *HIT_BRANCHES]
                for chunk in _chunks(path, tree, branches, step_size):
                    batch, lost = _to_batch(chunk, energy, int(max_layer), path)
                    writer.append(batch)
                    dropped += lost
        writer.update_metadata(
            {"n_events": writer.n_events, "n_hits": writer.n_hits, "n_hits_dropped": dropped}
        )
    return {
        "n_events": writer.n_events,
        "n_hits": writer.n_hits,
        "n_hits_dropped": dropped,
        "output": str(output),
        "energy_branch": energy_branch,
        "energy_branches": energies,
        "source_files": [str(p) for p in files],
    }
