"""The project's error base: a problem the user can fix. The CLI prints its message and exits 2;
anything else is a bug and keeps its traceback."""

from __future__ import annotations


class OmniTalkerError(Exception):
    pass


class ConfigError(OmniTalkerError, ValueError):
    """A bad option or config file; the message names the option, the value and what is allowed."""
