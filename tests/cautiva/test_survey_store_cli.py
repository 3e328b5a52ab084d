"""`cautiva form import` and `cautiva form list` as a survey team uses them, on a fresh SQLite."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_survey_store_forms import survey_workbook

from radius_harness import CAUTIVA

pytestmark = pytest.mark.sqlite


def cli(env: dict[str, str], *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    """Run `cautiva ARGS` with `env` and check its exit code."""
    completed = subprocess.run(
        [CAUTIVA, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == code, completed.stderr
    return completed


def cli_json(env: dict[str, str], *args: str) -> Any:
    return json.loads(cli(env, *args, "--json").stdout)


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    """An environment on a fresh, migrated SQLite database, whatever the suite's database is."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAUTIVA_")}
    env.update({"CAUTIVA_ENV": "development", "CAUTIVA_DATA_DIR": str(tmp_path / "var")})
    cli(env, "db", "upgrade")
    return env


def test_import_assign_and_list(sqlite_env: dict[str, str], tmp_path: Path) -> None:
    cli(
        sqlite_env,
        "point",
        "add",
        "--name",
        "Rumichaca",
        "--nas-id",
        "rumichaca-1",
        "--nas-type",
        "mikrotik",
    )
    workbook = tmp_path / "short.xlsx"
    workbook.write_bytes(survey_workbook("rumichaca_short", "2026.12.1"))
    imported = cli_json(
        sqlite_env, "form", "import", str(workbook), "--point", "rumichaca-1", "--followup"
    )
    assert imported["form_id"] == "rumichaca_short" and imported["kind"] == "followup"
    assert imported["point"] == "rumichaca-1"
    # Importing the same file again changes nothing.
    again = cli_json(sqlite_env, "form", "import", str(workbook), "--followup")
    assert again["id"] == imported["id"] and again["point"] is None
    listed = cli_json(sqlite_env, "form", "list")
    assert [(f["form_id"], f["kind"]) for f in listed] == [
        ("cautiva_default", "full"),
        ("cautiva_followup", "followup"),
        ("rumichaca_short", "followup"),
    ]
    table = cli(sqlite_env, "form", "list").stdout
    assert table.splitlines()[0].split() == ["ID", "FORM_ID", "VERSION", "KIND", "PUBLISHED_AT"]


def test_import_errors_are_one_line(sqlite_env: dict[str, str], tmp_path: Path) -> None:
    workbook = tmp_path / "form.xlsx"
    workbook.write_bytes(survey_workbook("team_form", "1"))
    cli(sqlite_env, "form", "import", str(workbook))
    same = cli_json(sqlite_env, "form", "import", str(workbook))
    assert (same["form_id"], same["version"]) == ("team_form", "1")
    workbook.write_bytes(survey_workbook("team_form", "1", label="Changed"))
    changed = cli(sqlite_env, "form", "import", str(workbook), code=1)
    assert changed.stderr.startswith("cautiva: error: form 'team_form' version '1' is published")
    assert changed.stderr.count("\n") == 1
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(survey_workbook("team_form", ""))
    missing = cli(sqlite_env, "form", "import", str(broken), code=1)
    assert missing.stderr == "cautiva: error: settings: version is missing\n"
    text = tmp_path / "notes.xlsx"
    text.write_text("type,name\n")
    assert cli(sqlite_env, "form", "import", str(text), code=1).stderr.count("\n") == 1
    unknown = cli(sqlite_env, "form", "import", str(workbook), "--point", "nowhere", code=1)
    assert "no point" in unknown.stderr
    assert cli(sqlite_env, "form", "import", str(tmp_path / "absent.xlsx"), code=2).stderr
