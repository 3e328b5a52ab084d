"""The `cautiva` command: technicians' and operators' tool, and the servers' entry point."""

from cautiva.cli.main import main

__all__ = ["main"]
