"""The package's own exception types.

The library raises these; :func:`hgcal_ae.cli.main` turns any of them into one line on
stderr and a non-zero exit status.  Every message names the bad value (``!r``), says what
was expected and, where there is one, how to fix it.
"""

from __future__ import annotations


class HgcalAeError(Exception):
    """Base class of every error raised on purpose by hgcal-ae."""


class ConfigError(HgcalAeError, ValueError):
    """A parameter has a value outside its allowed range or set."""


class DataError(HgcalAeError):
    """An input data file is missing, unreadable, truncated or malformed."""


class ChecksumError(DataError):
    """A data file's SHA-256 differs from the published value."""


class SchemaError(DataError):
    """A data file lacks a field, or a field has the wrong shape or type."""


class DeviceError(HgcalAeError):
    """The requested compute device is not available on this machine."""


class SchedulerError(HgcalAeError):
    """The luigi central scheduler cannot be reached, or a workflow failed under it."""


class OutputError(HgcalAeError):
    """An output location cannot be created or written."""
