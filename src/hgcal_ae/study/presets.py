"""Presets of ``hgcal-ae study``: how much data, which autoencoders, which settings.

* ``smoke``: about a minute on 2 CPU cores, for tests.
* ``default``: at most 15 minutes on 2 CPU cores (``make demo``).
* ``full``: serious statistics, for a batch node or a GPU.

The autoencoder grid is latent dim × bits per latent value, keeping the settings whose code
fits the largest e-link setting studied (min(18 + 32·(n − 1), 146) latent bits, econt.md §1).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from hgcal_ae.errors import ConfigError
from hgcal_ae.models.module_training import ModuleTrainingConfig
from hgcal_ae.study.grouping_config import GroupingConfig
from hgcal_ae.study.showers import OCCUPANCIES, TriggerDatasetConfig
from hgcal_ae.trigger.autoencoder_budget import autoencoder_latent_bits_available
from hgcal_ae.trigger.formats import tc_lsb_mip

__all__ = ["PRESETS", "STUDY_LOSSES", "StudyPreset", "study_preset"]

#: ``study --loss``: the telescope loss alone, or its epochs then ``emd_finetune_epochs`` of the
#: exact EMD (hgcal_ae.metrics.emd_loss) at ``emd_finetune_learning_rate``
STUDY_LOSSES = ("telescope", "telescope+emd")


@dataclass(frozen=True)
class StudyPreset:
    """Everything a study run depends on."""

    name: str
    energies_gev: tuple[float, ...]
    events_per_energy: int
    latent_dims: tuple[int, ...]
    latent_bits: tuple[int, ...]
    epochs: int
    geometry: str = "ld8"
    layers: str = "odd"
    elinks: tuple[int, ...] = (2, 3, 4, 5)
    loss: str = "telescope"
    loss_schedule: str = "telescope"  # one of STUDY_LOSSES
    emd_finetune_epochs: int = 10
    emd_finetune_learning_rate: float = 1e-3  # the better of 3e-4 and 1e-3 in the probe of issue 9
    decoder_head: str = "softmax"  # see hgcal_ae.models.module_ae
    quantised_weights: bool = False  # 6-bit encoder weights (`study --quantised-weights`)
    batch_size: int = 128  # smaller than Ecoder's 500: this data set has ~10^4, not 10^6, modules
    learning_rate: float = 3e-3
    thresholds_mip: tuple[float, ...] = (1.35, 2.0)  # Threshold-Sum thresholds (econt.md §6)
    ae_zero_suppress_mip: float = 0.1  # decoded TCs below it dropped (CMSSW, econt.md §2)
    resolution_tolerance: float = 0.05  # criterion of the "smallest latent dim" answer
    shape_tolerance: float = 0.10  # its shape criterion: mean EMD within 10 % of the best AE
    split: tuple[float, float, float] = (0.6, 0.1, 0.3)  # train / validation / test events
    seed: int = 0
    # hgcal-ae merging: showers per energy of the hd8 grouping study, and the latent code of
    # the neighbour study (16 x 3 = 48 bits fits 2 e-links)
    grouping_events_per_energy: int = 200
    merging_latent: tuple[int, int] = (16, 3)
    # the showers (study --particle/--energies) and, for occupancy pu200, their |η| range and
    # the pile-up scale (study --eta-range/--pileup-scale; 1 = 200 pile-up)
    particle: str = "e+"
    eta_range: tuple[float, float] = (1.5, 3.0)
    pileup_scale: float = 1.0
    # the module AEs' decoder conditions (models.module_ae.CONDITIONS; study --conditional)
    conditions: tuple[str, ...] = ()

    def ae_grid(self) -> list[tuple[int, int]]:
        """(latent dim, bits) pairs whose code fits the largest e-link setting."""
        capacity = autoencoder_latent_bits_available(max(self.elinks))
        return [(d, b) for d in self.latent_dims for b in self.latent_bits if d * b <= capacity]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def tc_lsb_mip(self) -> float:
        """One ECON-T input count of this preset's wafers [MIP] (2/45 LD, 8/45 HD)."""
        return tc_lsb_mip(self.geometry)

    def dataset_config(self, occupancy: str = "signal") -> TriggerDatasetConfig:
        """The showers of the study: this preset's energies and layers, one event per beam."""
        if occupancy not in OCCUPANCIES:
            msg = f"unknown occupancy {occupancy!r}; expected one of {', '.join(OCCUPANCIES)}"
            raise ConfigError(msg)
        return TriggerDatasetConfig(
            geometry=self.geometry, energies_gev=self.energies_gev,
            events_per_energy=self.events_per_energy, layers=self.layers, seed=self.seed,
            events_per_group=1, occupancy=occupancy, particle=self.particle,
            eta_range=self.eta_range, pileup_scale=self.pileup_scale,
        )  # fmt: skip

    def training_config(self, latent_dim: int, latent_bits: int) -> ModuleTrainingConfig:
        """The training of one module AE of the grid (or of the merging study)."""
        return ModuleTrainingConfig(
            latent_dim=latent_dim, latent_bits=latent_bits, loss=self.loss, epochs=self.epochs,
            batch_size=self.batch_size, learning_rate=self.learning_rate, seed=self.seed,
            decoder_head=self.decoder_head, quantised_weights=self.quantised_weights,
            finetune_epochs=self.emd_finetune_epochs if self.loss_schedule == "telescope+emd" else 0,
            finetune_learning_rate=self.emd_finetune_learning_rate, conditions=self.conditions,
        )  # fmt: skip

    def grouping_config(self) -> GroupingConfig:
        """The showers of the TC-grouping study (hd8, signal occupancy)."""
        return GroupingConfig(
            energies_gev=self.energies_gev,
            events_per_energy=self.grouping_events_per_energy,
            seed=self.seed,
        )


PRESETS: dict[str, StudyPreset] = {
    "smoke": StudyPreset(
        name="smoke",
        energies_gev=(20.0, 50.0, 100.0),
        events_per_energy=40,
        latent_dims=(4, 16),
        latent_bits=(3, 5),
        epochs=3,
        grouping_events_per_energy=20,
        emd_finetune_epochs=2,
    ),
    "default": StudyPreset(
        name="default",
        energies_gev=(20.0, 50.0, 100.0, 200.0),
        events_per_energy=150,
        latent_dims=(2, 4, 8, 16, 24),
        latent_bits=(3, 5, 9),
        epochs=50,
    ),
    "full": StudyPreset(
        name="full",
        energies_gev=(20.0, 30.0, 50.0, 80.0, 100.0, 150.0, 200.0, 300.0),
        events_per_energy=2000,
        latent_dims=(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48),
        latent_bits=(2, 3, 4, 5, 6, 8),
        epochs=100,
        batch_size=500,  # Ecoder's: this preset has ~7 x 10^5 modules
        grouping_events_per_energy=2000,
    ),
}


def study_preset(name: str) -> StudyPreset:
    """The preset ``name``; :class:`ConfigError` for an unknown one."""
    try:
        return PRESETS[name]
    except KeyError:
        msg = f"unknown preset {name!r}; expected one of {', '.join(PRESETS)}"
        raise ConfigError(msg) from None
