"""`cautiva referral` as an operator uses it: import a CSV, list, add, remove."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_runner import Run, run_cautiva
from cli_runner import cautiva_env as cautiva_env

Cli = Callable[..., Run]


@pytest.fixture
def cli(cautiva_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run `cautiva ARGS` in this process (a child takes seconds to start) and check its code."""
    return functools.partial(run_cautiva, capsys)


def test_import_list_add_and_remove(cli: Cli, tmp_path: Path) -> None:
    department = f"Dept {uuid.uuid4().hex[:8]}"
    directory = tmp_path / "services.csv"
    directory.write_text(
        "name,kind,needs,department,municipality,address,hours,contact,languages,notes\n"
        f'Comedor San José,food,"food, water",{department},Ipiales,Calle 5,8-12,'
        "+57 300 111 2222,es fr,\n"
        f"Albergue,shelter,shelter,{department},,Carrera 2,24h,,es,bring no ID\n",
        encoding="utf-8",
    )
    imported = cli("referral", "import", str(directory), "--json").json()
    assert imported == {"added": 2, "updated": 0}
    again = cli("referral", "import", str(directory), "--json").json()
    assert again == {"added": 0, "updated": 2}, "the same file twice adds nothing"
    listed = cli("referral", "list", "--department", department, "--json").json()
    assert [(s["name"], s["municipality"]) for s in listed] == [
        ("Albergue", None),
        ("Comedor San José", "Ipiales"),
    ]
    assert listed[1]["needs"] == ["food", "water"] and listed[1]["languages"] == ["es", "fr"]

    added = cli(
        "referral",
        "add",
        "--name",
        "Clínica",
        "--needs",
        "health,mystery_need",
        "--department",
        department,
        "--languages",
        "es,ht",
    )
    assert "warning: needs: no published form offers mystery_need" in added.stderr
    assert "Clínica" in added.stdout and "health,mystery_need" in added.stdout
    table = cli("referral", "list", "--department", department).stdout
    assert "Clínica" in table and f"Ipiales, {department}" in table

    removed = cli("referral", "remove", str(listed[0]["id"]), "--json").json()
    assert removed["active"] is False
    active = cli("referral", "list", "--department", department, "--active", "--json").json()
    assert [s["name"] for s in active] == ["Clínica", "Comedor San José"]


def test_bad_input_is_one_line_and_imports_nothing(cli: Cli, tmp_path: Path) -> None:
    department = f"Dept {uuid.uuid4().hex[:8]}"
    bad = tmp_path / "bad.csv"
    bad.write_text(f"name;needs;department\nBien;food;{department}\n;food;{department}\n")
    failed = cli("referral", "import", str(bad), code=1)
    assert failed.stderr.strip() == "cautiva: error: line 3: name must not be empty"
    assert cli("referral", "list", "--department", department, "--json").json() == []
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,needs\nAsociación,food\n".encode("latin-1"))
    failed = cli("referral", "import", str(latin), code=1)
    assert "not UTF-8" in failed.stderr
    failed = cli("referral", "add", "--name", "X", "--needs", "none", code=1)
    assert "'none'" in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    failed = cli("referral", "remove", "999999999", code=1)
    assert failed.stderr.strip() == "cautiva: error: no referral service with id 999999999"
