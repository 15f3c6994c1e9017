"""``python -m stackctl``: the same as the ``stackctl`` command."""

from stackctl.cli import entry

entry()
