"""The ``inceptionism`` command line: a thin layer over the library that owns the terminal.

One module per command group: ``dream``, ``batch``, ``zoom``, ``video``, ``atlas``, ``info``, ``serve``,
``catalog`` (presets, classes, models, layers) and ``classify``, all on the group of
``app``; ``options`` generates the dream flags from the settings.
"""

from typing import NoReturn

from inceptionism.cli import atlas, batch, catalog, classify, dream, info, live, serve, train, video, zoom  # noqa: F401  (each registers its commands)
from inceptionism.cli.app import cli


def main() -> NoReturn:
    """Entry point of the ``inceptionism`` console script."""
    cli.main(prog_name="inceptionism")


__all__ = ["cli", "main"]
