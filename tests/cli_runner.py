"""`cautiva ARGS` run in this process on the suite's test database (a child takes seconds to start).

In a test module, import the fixtures it uses, e.g.
`from cli_runner import cautiva_env as cautiva_env` and `from cli_runner import cli as cli`.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cautiva.cli.main import main
from conftest import TEST_SECRET_KEY


@dataclass
class Run:
    """What one command printed."""

    stdout: str
    stderr: str

    def json(self) -> Any:
        """The printed JSON."""
        return json.loads(self.stdout)


Cli = Callable[..., Awaitable[Run]]
"""`await cli("alert", "list", code=0)`: the command's output, once its exit code is checked."""


@pytest.fixture
def cautiva_env(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The suite's test database in this process's environment, where the settings read it."""
    ours = {
        "CAUTIVA_ENV": "development",
        "CAUTIVA_DATABASE_URL": database_url,
        "CAUTIVA_SECRET_KEY": TEST_SECRET_KEY,
        "CAUTIVA_DATA_DIR": str(tmp_path / "var"),
    }
    for key in [key for key in os.environ if key.startswith("CAUTIVA_")]:
        monkeypatch.delenv(key)
    for key, value in ours.items():
        monkeypatch.setenv(key, value)
    return dict(os.environ)


def run_cautiva(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> Run:
    """Run `cautiva ARGS` in this thread, check its exit code and return what it printed."""
    capsys.readouterr()
    assert main(list(args)) == code
    captured = capsys.readouterr()
    return Run(captured.out, captured.err)


@pytest.fixture
def cli(
    cautiva_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    """Run `cautiva ARGS` in a thread of this process, as from a shell without a terminal.

    The command starts an event loop of its own, so it cannot run in the test's.
    """
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    async def run(*args: str, code: int = 0) -> Run:
        return await asyncio.to_thread(run_cautiva, capsys, *args, code=code)

    return run
