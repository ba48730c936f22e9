"""``python -m hgcal_ae.cli``: the same as the ``hgcal-ae`` command."""

import sys

from hgcal_ae.cli import main

sys.exit(main())
