"""`cautiva alert` as an operator uses it: rules, alerts, deliveries, checks, thresholds."""

from __future__ import annotations

import uuid

from cli_runner import Cli
from cli_runner import cautiva_env as cautiva_env
from cli_runner import cli as cli
from test_alerts_service import submit, violent_answers

from cautiva.database import transaction
from cautiva.models import Point
from cautiva.runtime import Runtime
from factories import create_point


async def test_rules_alerts_and_deliveries_from_the_command_line(
    runtime: Runtime, cli: Cli
) -> None:
    point = await create_point(runtime)
    name = f"Violencia {uuid.uuid4().hex[:6]}"
    rule = (
        await cli(
            "alert",
            "rule",
            "add",
            "--name",
            name,
            "--expression",
            "selected(${risks}, 'violence')",
            "--severity",
            "critical",
            "--point",
            point.nas_id,
            "--json",
        )
    ).json()
    assert (rule["name"], rule["severity"], rule["points"]) == (name, "critical", point.nas_id)
    bad = await cli(
        "alert", "rule", "add", "--name", "Broken", "--expression", "${risks} >", code=1
    )
    assert bad.stderr.startswith("cautiva: error: expression '${risks} >'")
    assert len(bad.stderr.strip().splitlines()) == 1
    clash = await cli("alert", "rule", "add", "--name", name, "--expression", "${a} = 1", code=1)
    assert "exists" in clash.stderr
    future = f"Solos {uuid.uuid4().hex[:6]}"
    warned = await cli(
        "alert",
        "rule",
        "add",
        "--name",
        future,
        "--expression",
        "${children_alone} > 0",
        "--point",
        point.nas_id,
    )
    assert "warning: no published form asks ${children_alone}" in warned.stderr
    listed = (await cli("alert", "rule", "list", "--json")).json()
    assert {name, future} <= {r["name"] for r in listed}
    table = (await cli("alert", "rule", "list")).stdout
    assert table.splitlines()[0].split()[:3] == ["ID", "NAME", "SEVERITY"]

    try:
        await submit(runtime, point, violent_answers())
    finally:
        for ref in (name, future):
            disabled = await cli("alert", "rule", "disable", ref)
            assert "disabled" in disabled.stdout
    alerts = (await cli("alert", "list", "--state", "open", "--json")).json()
    (alert,) = [a for a in alerts if a["point"] == point.nas_id]
    assert alert["title"] == name and alert["details"] == {"risks": ["violence"]}
    alert_id = str(alert["id"])
    assert (await cli("alert", "ack", alert_id)).stdout.strip() == f"alert {alert_id} acknowledged"
    twice = await cli("alert", "ack", alert_id, code=1)
    assert "only an open alert" in twice.stderr
    assert (await cli("alert", "close", alert_id)).stdout.strip() == f"alert {alert_id} closed"
    closed = (await cli("alert", "list", "--state", "closed", "--json")).json()
    (done,) = [a for a in closed if a["id"] == alert["id"]]
    assert done["acknowledged_by"] == done["closed_by"] == "cli"
    assert "no alert 999999999" in (await cli("alert", "close", "999999999", code=1)).stderr
    await cli("alert", "list", "--state", "solved", code=2)

    dead = (await cli("alert", "deliveries", "--dead", "--json")).json()
    assert all(d["state"] == "dead" for d in dead)
    missing = await cli("alert", "retry", "999999999", code=1)
    assert "no webhook delivery 999999999" in missing.stderr
    checked = (await cli("alert", "check", "--json")).json()
    assert set(checked) == {"opened", "closed", "delivered", "failed", "dead"}
    assert checked["delivered"] == 0, "no webhook URL: nothing is sent"


async def test_offline_minutes_per_point(runtime: Runtime, cli: Cli) -> None:
    point = await create_point(runtime)
    out = await cli("alert", "offline-minutes", point.nas_id, "30")
    assert out.stdout.strip() == f"point {point.nas_id}: an alert after 30 minutes unheard"
    async with transaction(runtime.sessions) as session:
        row = await session.get(Point, point.id)
        assert row is not None and row.offline_alert_minutes == 30
    back = await cli("alert", "offline-minutes", point.nas_id, "--default")
    assert "after 120 minutes" in back.stdout
    await cli("alert", "offline-minutes", point.nas_id, code=2)
    await cli("alert", "offline-minutes", point.nas_id, "30", "--default", code=2)
    short = await cli("alert", "offline-minutes", point.nas_id, "2", code=1)
    assert "between 5 and" in short.stderr
    await cli("alert", "offline-minutes", f"nowhere-{uuid.uuid4().hex[:6]}", "30", code=1)
