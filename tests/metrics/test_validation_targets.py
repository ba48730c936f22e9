"""Tests of the simulation's validation targets: one home for the numbers, checked both ways."""

from __future__ import annotations

from hgcal_ae.metrics.validation import VALIDATION_TARGETS, Target, check_targets, target_values


def _summary(s: float, r90: list[float]) -> dict:
    return {
        "resolution_fit": {"values": {"S": s, "C": 0.004}},
        "max_abs_linearity_residual": 0.002,
        "shower_max_fit": {"values": {"slope": 0.99}},
        "points": [{"r90_mean_cm": r} for r in r90],
    }


def test_targets_read_as_the_tables_state_them() -> None:
    texts = {key: t.text() for key, t in VALIDATION_TARGETS.items()}
    assert texts == {"S": "18–26 %·√GeV", "C": "≤ 1.5 %", "linearity": "≤ 1 %",
                     "slope": "0.8–1.2 X0", "r90": "1.5–4 cm"}  # fmt: skip
    assert Target("x", 2.0, None, "cm").text() == "≥ 2 cm"


def test_a_summary_meets_or_misses_each_target() -> None:
    good = _summary(0.212, [2.8, 2.9])
    assert target_values(good)["S"][0] == 21.2 and all(check_targets(good).values())
    bad = check_targets(_summary(0.30, [2.8, 4.2]))  # S too large, one radius too wide
    assert bad == {"S": False, "C": True, "linearity": True, "slope": True, "r90": False}
