"""The luigi (and law) tasks of hgcal-ae: they only wire the library's steps together.

law reads its settings when it is first imported.  Unless ``$LAW_CONFIG_FILE`` names a file
or the working folder holds a ``law.cfg`` (law's own lookup order), the package's
``law.cfg`` (:data:`LAW_CONFIG`) is used; batch jobs inherit the variable.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["LAW_CONFIG"]

LAW_CONFIG = Path(__file__).with_name("law.cfg")

if not os.environ.get("LAW_CONFIG_FILE") and not Path("law.cfg").exists():
    os.environ["LAW_CONFIG_FILE"] = str(LAW_CONFIG)
