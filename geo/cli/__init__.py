"""The command line ``python -m geo`` and its subcommands."""

from geo.cli.main import main

__all__ = ["main"]
