"""Frames bit for bit against the ECON-T emulator's own Python code, on random modules.

The emulator (github.com/cmantill/ECONT_Emulator, commit 357cfef, 2022-04-27) carries no
licence file, so none of its code is copied into this project: the test reads the
emulator's files from a local git mirror at run time and runs its functions (encode,
ThresholdSum's ``makeCHARGEQ``, the Best-Choice ``sorter``, ``supertriggercell_2x2/4x4`` and
the ``Formatter`` functions) on each module.  Only the DataFrame plumbing around them
(pandas, not installed here) is restated below, each step naming the emulator line it stands
for.  Without the mirror (``HGCAL_AE_ECONT_EMULATOR``: a git dir; default the session
mirror) the test is skipped; the hand-derived frames of ``test_frames.py`` always run.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hgcal_ae.detector.layers import ADC_PER_MIP
from hgcal_ae.trigger.baselines import (
    best_choice,
    best_choice_n_tc,
    repeater,
    super_trigger_cells,
    threshold_sum,
)
from hgcal_ae.trigger.frames import MUX_ORDER

COMMIT = "357cfef1d724b5ba46dbdb6c715f58721f3c7d0c"
MIRROR = Path(
    os.environ.get("HGCAL_AE_ECONT_EMULATOR", "/work/.mirror/cmantill+ECONT_Emulator/repo")
)


def _source(path: str) -> str:
    out = subprocess.run(
        ["git", f"--git-dir={MIRROR}", "show", f"{COMMIT}:{path}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    # pandas is only used by the DataFrame wrappers, which this test does not call
    return out.stdout.replace("import pandas as pd", "pd = None")


@pytest.fixture(scope="module")
def emu() -> dict[str, Any]:
    if not (MIRROR / "HEAD").exists():
        pytest.skip(f"no ECON-T emulator mirror at {MIRROR}")
    ns: dict[str, Any] = {}
    for path in ("Utils/encode.py", "Utils/linkAllocation.py", "ASICBlocks/bestchoice.py",
                 "ASICBlocks/supertriggercell.py"):  # fmt: skip
        exec(compile(_source(path), path, "exec"), ns)
    algorithms = _source("ASICBlocks/Algorithms.py")
    exec(
        compile(
            algorithms.split("def ThresholdSum")[0].replace(
                "from Utils.encode import encode, decode", ""
            ),
            "Algorithms.py",
            "exec",
        ),
        ns,
    )
    formatter = _source("ASICBlocks/Formatter.py").replace("from Utils.encode import encode", "")
    formatter = formatter.replace("from Utils.linkAllocation import tcPerLink", "")
    exec(compile(formatter, "Formatter.py", "exec"), ns)
    return ns


class Row(dict[str, Any]):
    """A pandas-Series stand-in: ``row[name]`` a value, ``row[[names]]`` an array with .values."""

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, list):
            return _Values(np.array([dict.__getitem__(self, k) for k in key]))
        return dict.__getitem__(self, key)

    def keys(self) -> Any:  # type: ignore[override]
        return list(dict.keys(self))


class _Values(np.ndarray):  # type: ignore[type-arg]
    def __new__(cls, a: np.ndarray) -> _Values:
        return a.view(cls)

    @property
    def values(self) -> np.ndarray:
        return np.asarray(self)


def random_calq(rng: np.random.Generator, n: int) -> np.ndarray:
    """Integer CALQ counts with many zeros and ties, exponent boundaries and saturation."""
    kind = rng.integers(0, 5, (n, 48))
    boundary = (8 + rng.integers(0, 8, (n, 48))) << rng.integers(0, 19, (n, 48))
    values = np.select(
        [kind == 0, kind == 1, kind == 2, kind == 3],
        [np.zeros((n, 48), np.int64), rng.integers(0, 6, (n, 48)),
         boundary + rng.integers(-1, 2, (n, 48)), rng.integers(0, 2**21, (n, 48))],
        rng.integers(0, 300, (n, 48)),
    )  # fmt: skip
    values[rng.random(n) < 0.1] = rng.integers(0, 3)  # whole modules of equal charges
    return np.maximum(values, 0)


def emulator_frames(emu: dict[str, Any], calq_mux: np.ndarray, drop: int, n_elinks: int,
                    threshold: int, bx: int) -> dict[str, str]:  # fmt: skip
    """The emulator's frames of one module (CALQ in MUX order) for the five outputs."""
    encode = emu["encode"]
    cols = {f"CALQ_{i}": int(calq_mux[i]) for i in range(48)}
    row = Row(cols, DropLSB=drop, BX_CNT=bx, USE_SUM=True)
    # Algorithms.ThresholdSum: ADDRMAP = CALQ >= thresholds, CHARGEQ = makeCHARGEQ(row),
    # SUM = encode(sum(CALQ), 0, 5, 3, False, True)
    thresholds = np.full(48, threshold)
    chargeq = emu["makeCHARGEQ"](row, thresholds)
    ts = Row(row, SUM=encode(int(calq_mux.sum()), 0, 5, 3, False, True), SUM_NOT_TRANSMITTED=0,
             **{f"ADDRMAP_{i}": int(calq_mux[i] >= threshold) for i in range(48)},
             **{f"CHARGEQ_{i}": int(chargeq[i]) for i in range(48)})  # fmt: skip
    # Algorithms.BestChoice: df_in = CALQ >> DropLSB, clipped at 262143; BC_CHARGE = sort(),
    # BC_TC_MAP = batcher_sort() (the sorter network)
    x = np.minimum(calq_mux >> drop, 262143)
    _, adr = emu["sorter"](x.copy(), np.arange(48))
    bc = Row(row, **{f"BC_CHARGE_{i}": int(v) for i, v in enumerate(-np.sort(-x))},
             **{f"BC_TC_MAP_{i}": int(a) for i, a in enumerate(adr)})  # fmt: skip
    # Algorithms.SuperTriggerCell: sums and indices, XTC*_9 = encode(sum, 0, 5, 4, asInt=True)
    stc = emu["supertriggercell_2x2"](row)
    stc16 = emu["supertriggercell_4x4"](row)
    st = Row(row, **{f"XTC4_9_SUM_{i}": encode(int(stc[i]), 0, 5, 4, asInt=True) for i in range(12)},
             **{f"MAX4_ADDR_{i}": int(stc[12 + i]) for i in range(12)},
             **{f"XTC16_9_SUM_{i}": encode(int(stc16[i]), 0, 5, 4, asInt=True) for i in range(3)},
             **{f"MAX16_ADDR_{i}": int(stc16[3 + i]) for i in range(3)})  # fmt: skip
    # Algorithms.Repeater: encode(CALQ >> DropLSB, 0, 4, 3, False, True)
    rp = Row(
        row,
        **{f"RPT_{i}": encode(int(calq_mux[i] >> drop), 0, 4, 3, False, True) for i in range(48)},
    )
    n = n_elinks  # Format_SuperTriggerCell's nSTC rules
    frames = {
        "threshold_sum": emu["formatThresholdOutput"](ts),
        "best_choice": emu["formatBestChoiceOutput"](bc, nTC=emu["tcPerLink"][n]),
        "repeater": emu["formatRepeaterOutput"](rp),
    }
    if n <= 5:
        n_stc = 12 if n >= 5 else 11 if n == 4 else 8 if n == 3 else 5 if n == 2 else 2
        frames["stc_2x2"] = emu["formatSTC_4_9"](st, n_stc)
    if n <= 2:
        frames["stc_4x4"] = emu["formatSTC_16_9"](st, 3 if n >= 2 else 2)
    return frames


@pytest.mark.parametrize("sensor", ["ld8", "hd8"])
def test_frames_match_the_emulator_bit_for_bit(emu: dict[str, Any], sensor: str) -> None:
    rng = np.random.default_rng(13 + len(sensor) + (sensor == "hd8"))
    n_modules = int(os.environ.get("HGCAL_AE_EMULATOR_MODULES", "60"))
    drop = {"ld8": 1, "hd8": 3}[sensor]
    calq = random_calq(rng, n_modules)  # per TC id
    calq_mux = calq[:, MUX_ORDER]
    tc = calq / ADC_PER_MIP  # in MIP: the formats must count exactly
    lsb = 2**drop / ADC_PER_MIP
    bx = rng.integers(0, 32, n_modules)
    threshold = 60
    for n_elinks in (1, 2, 3, 4, 5, 7, 13):
        common = {"lsb": lsb, "dropped_lsbs": drop}
        ours = {
            "threshold_sum": threshold_sum(tc, n_elinks, threshold / ADC_PER_MIP, **common),
            "best_choice": best_choice(tc, n_elinks, **common),
            "repeater": repeater(tc, n_elinks, **common),
            "stc_2x2": super_trigger_cells(tc, n_elinks, 4, select="first", **common),
            "stc_4x4": super_trigger_cells(tc, n_elinks, 16, select="first", **common),
        }
        strings = {name: out.frame(bx).strings() for name, out in ours.items()}
        for m in range(n_modules):
            want = emulator_frames(emu, calq_mux[m], drop, n_elinks, threshold, int(bx[m]))
            for name, frame in want.items():
                assert strings[name][m] == frame, (name, n_elinks, m, calq[m].tolist())
        assert best_choice_n_tc(n_elinks) == emu["tcPerLink"][n_elinks]
