"""Effective medium of the 2018 CE-E cassette (reference/physics.md §1.4)."""

from __future__ import annotations

import dataclasses

import pytest

from hgcal_ae.errors import ConfigError
from hgcal_ae.simulation.medium import MEDIUM_READINGS, SamplingMedium, tb2018_medium


def test_readings_values() -> None:
    assert MEDIUM_READINGS == ("Cu75W25", "W75Cu25")
    assert tb2018_medium("Cu75W25") == SamplingMedium(
        z_eff=49.5, x0_eff_cm=1.75, rm_eff_cm=2.88, ec_eff_mev=12.9, fs=1.16, ehat=0.80
    )
    assert tb2018_medium() == tb2018_medium("W75Cu25")
    assert tb2018_medium().rm_eff_cm == 2.96


@pytest.mark.parametrize("reading", MEDIUM_READINGS)
def test_ehat_matches_its_definition(reading: str) -> None:
    # ê = 1/(1 + 0.007 (Z_passive − Z_Si)), Z_Si = 14, to the two digits quoted.
    medium = tb2018_medium(reading)
    assert medium.ehat == pytest.approx(1 / (1 + 0.007 * (medium.z_eff - 14)), abs=0.006)


def test_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        tb2018_medium().fs = 2.0  # type: ignore[misc]


def test_unknown_reading_lists_choices() -> None:
    with pytest.raises(ConfigError, match=r"unknown CuW reading 'W50Cu50'.*'Cu75W25', 'W75Cu25'"):
        tb2018_medium("W50Cu50")


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [("x0_eff_cm", 0.0, "x0_eff_cm must be"), ("ehat", 1.5, r"ehat must lie in \(0, 1\]")],
)
def test_invalid_medium(field: str, value: float, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        dataclasses.replace(tb2018_medium(), **{field: value})
