"""The grouping study's settings: every field checked and normalised on construction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hgcal_ae.errors import ConfigError
from hgcal_ae.study.grouping import grouping_study
from hgcal_ae.study.grouping_config import GroupingConfig


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("energies_gev", ()),
        ("energies_gev", (20.0, -5.0)),
        ("energies_gev", (20.0, math.nan)),
        ("energies_gev", (50.0, 50.0)),
        ("energies_gev", "abc"),
        ("energies_gev", "25"),
        ("events_per_energy", 0),
        ("events_per_energy", 2.5),
        ("events_per_energy", True),
        ("seed", -1),
        ("seed", "0"),
        ("particle", "pi+"),
        ("occupancy", "pileup"),
        ("position_range_cm", -1.0),
        ("angle_max_rad", 1.0),
        ("noise_mip", math.inf),
        ("threshold_mip", "0.5"),
    ],
)
def test_bad_config_names_the_field(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=rf"GroupingConfig field '{field}': expected"):
        GroupingConfig(**{field: value})  # type: ignore[arg-type]


def test_config_is_frozen_and_normalised() -> None:
    config = GroupingConfig(energies_gev=[20, 50], events_per_energy=np.int64(3))  # type: ignore[arg-type]
    assert config.energies_gev == (20.0, 50.0)
    with pytest.raises(AttributeError):
        config.seed = 1  # type: ignore[misc]
    with pytest.raises(ConfigError, match="GroupingConfig"):
        grouping_study({"energies_gev": (20.0,)})  # type: ignore[arg-type]
