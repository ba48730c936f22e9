"""The docs' blocks rendered from the package's code: presets, file schemas, bit budgets.

They need no run; ``hgcal-ae docs --check`` fails when the code changes and the pages do not.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hgcal_ae.datasets.events import EVENTS_SCHEMA
from hgcal_ae.datasets.hdf5 import FileSchema
from hgcal_ae.datasets.trigger_cells import TRIGGER_CELLS
from hgcal_ae.detector.trigger_cells import N_TRIGGER_CELLS
from hgcal_ae.study.page_context import BlockContext, Rendered, code_header
from hgcal_ae.study.presets import PRESETS
from hgcal_ae.study.tables import markdown_table
from hgcal_ae.trigger.autoencoder_budget import (
    autoencoder_frame_bits,
    autoencoder_latent_bits_available,
)
from hgcal_ae.trigger.baselines import (
    ELINK_BITS,
    best_choice_bits,
    best_choice_n_tc,
    super_trigger_cells,
)

__all__ = ["formats_events", "formats_trigger_cells", "study_presets", "trigger_budgets"]


def study_presets(ctx: BlockContext) -> Rendered:
    rows = [{
        "name": p.name, "energies": ", ".join(f"{e:g}" for e in p.energies_gev),
        "showers": p.events_per_energy, "dims": ", ".join(map(str, p.latent_dims)),
        "bits": ", ".join(map(str, p.latent_bits)), "grid": len(p.ae_grid()), "epochs": p.epochs,
        "batch": p.batch_size,
    } for p in PRESETS.values()]  # fmt: skip
    columns = (
        ("name", "preset"), ("energies", "energies [GeV]"), ("showers", "showers per energy"),
        ("dims", "latent dims"), ("bits", "bits per latent value"), ("grid", "AEs that fit"),
        ("epochs", "epochs"), ("batch", "batch"),
    )  # fmt: skip
    return Rendered(code_header("hgcal_ae.study.presets") + markdown_table(rows, columns))


def _schema_rows(schema: FileSchema) -> list[dict[str, Any]]:
    rows = []
    for d in schema.datasets:
        shape = f"(n_{d.length}{''.join(f', {n}' for n in d.shape)})"
        if d.offsets_into:
            shape = f"(n_{d.length} + 1)"
        rows.append({"name": f"/{d.name}", "dtype": np.dtype(d.dtype).name, "shape": shape,
                     "offsets": f"rows of `{d.offsets_into}/`" if d.offsets_into else ""})  # fmt: skip
    return rows


def _schema(schema: FileSchema, module: str) -> Rendered:
    columns = (
        ("name", "dataset"),
        ("dtype", "dtype"),
        ("shape", "shape"),
        ("offsets", "offsets into"),
    )
    head = f"Schema `{schema.name}`, version {schema.version}:\n\n"
    return Rendered(code_header(module) + head + markdown_table(_schema_rows(schema), columns))


def formats_events(ctx: BlockContext) -> Rendered:
    return _schema(EVENTS_SCHEMA, "hgcal_ae.datasets.events.EVENTS_SCHEMA")


def formats_trigger_cells(ctx: BlockContext) -> Rendered:
    return _schema(TRIGGER_CELLS, "hgcal_ae.datasets.trigger_cells.TRIGGER_CELLS")


def trigger_budgets(ctx: BlockContext) -> Rendered:
    empty = np.zeros((1, N_TRIGGER_CELLS))
    rows = [{
        "n": n, "capacity": ELINK_BITS * n, "bc_tc": best_choice_n_tc(n),
        "bc_bits": best_choice_bits(best_choice_n_tc(n)),
        "stc4": int(super_trigger_cells(empty, n, size=4).bits[0]),
        "stc16": int(super_trigger_cells(empty, n, size=16).bits[0]),
        "ae_frame": autoencoder_frame_bits(n), "ae_latent": autoencoder_latent_bits_available(n),
    } for n in range(1, 6)]  # fmt: skip
    columns = (
        ("n", "e-links"), ("capacity", "bits/BX carried"), ("bc_tc", "Best Choice TCs"),
        ("bc_bits", "Best Choice bits"), ("stc4", "STC 2×2 bits"), ("stc16", "STC 4×4 bits"),
        ("ae_frame", "AE frame bits"), ("ae_latent", "AE latent bits"),
    )  # fmt: skip
    return Rendered(code_header("hgcal_ae.trigger.baselines, hgcal_ae.trigger.autoencoder_budget")
                    + markdown_table(rows, columns))  # fmt: skip
