"""Router setup scripts: golden files per router kind, syntax checks, escaping, refusals.

`CAUTIVA_UPDATE_GOLDEN=1 pytest tests/router_configs` rewrites the golden files; read the diff
line by line, as the technician pasting the script would, before keeping it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from router_samples import (
    GOLDEN,
    PORTAL,
    SECRET_KEY,
    decode_ros_string,
    sample_point,
    sample_settings,
)

from cautiva.credentials import heartbeat_key
from cautiva.errors import InvalidInput
from cautiva.models import NasType
from router_configs import RADIUS_PLACEHOLDER, RouterKind, render_config, router_targets
from router_configs.render import TEMPLATES
from router_configs.routeros_syntax import check_routeros
from router_configs.uci_syntax import check_uci_batch, split_words, uci_batches

OPENWRT = Path(__file__).resolve().parents[2] / "openwrt"
KINDS = {
    NasType.MIKROTIK: RouterKind.ROUTEROS,
    NasType.CHILLI: RouterKind.OPENWRT_CHILLI,
    NasType.USPOT: RouterKind.OPENWRT_USPOT,
}
PROBE_HOSTS = ("connectivitycheck.gstatic.com", "captive.apple.com", "msftconnecttest.com")
# Secrets a technician could type: quotes, dollars, semicolons, backslashes, question marks.
NASTY_SECRET = "a\"b$c;d'e\\f?g`h[i]{j}(k)#ñ"


def shell_ok(path: Path) -> None:
    """`sh -n` (dash here, like OpenWrt's ash a POSIX shell), and shellcheck where installed."""
    checked = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    if shutil.which("shellcheck"):
        linted = subprocess.run(
            ["shellcheck", "-s", "sh", "-S", "warning", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert linted.returncode == 0, linted.stdout


def uci_ok(script: str, tmp_path: Path) -> list[str]:
    """Check every uci batch in `script`; with the real `uci` too where it is installed."""
    batches = uci_batches(script)
    assert batches
    for batch in batches:
        assert check_uci_batch(batch) == [], batch
        if shutil.which("uci"):
            for config in {line.split()[1].split(".")[0] for line in batch.splitlines()[:-1]}:
                (tmp_path / config).touch()
            run = subprocess.run(
                ["uci", "-c", str(tmp_path), "batch"],
                input=batch,
                capture_output=True,
                text=True,
                check=False,
            )
            assert run.returncode == 0 and not run.stderr, run.stderr
    return batches


@pytest.mark.parametrize("nas_type", list(KINDS))
def test_golden(nas_type: NasType, tmp_path: Path) -> None:
    rendered = render_config(sample_point(nas_type), KINDS[nas_type], settings=sample_settings())
    golden = GOLDEN / rendered.filename
    if os.environ.get("CAUTIVA_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(rendered.text)
    assert rendered.text == golden.read_text(), f"{golden.name} changed: review, then regenerate"
    script = tmp_path / rendered.filename
    script.write_text(rendered.text)
    if nas_type is NasType.MIKROTIK:
        assert check_routeros(rendered.text) == []
        assert rendered.media_type.startswith("text/plain")
    else:
        shell_ok(script)
        uci_ok(rendered.text, tmp_path)
        assert rendered.media_type.startswith("text/x-shellscript")


def test_routeros_script_carries_the_point(tmp_path: Path) -> None:
    settings = sample_settings()
    point = sample_point(NasType.MIKROTIK)
    text = render_config(point, RouterKind.ROUTEROS, settings=settings).text
    assert '/system identity set name="cucuta-terminal"' in text
    radius = [line for line in text.splitlines() if line.startswith("/radius add ")]
    addresses = [re.findall(r'address="([^"]+)"', line) for line in radius]
    assert addresses == [["203.0.113.10"], ["198.51.100.20"]]
    for line in radius:
        assert "service=hotspot" in line and "authentication-port=1812" in line
        assert "accounting-port=1813" in line
        assert "require-message-auth=yes-for-request-resp" in line
        assert 'secret="q7RZx2mN4vT8kLp3Wc9Hf6Yb1Dj5Gs0A"' in line
    assert "/radius incoming set accept=yes port=3799" in text
    profile = next(line for line in text.splitlines() if "/ip hotspot profile add" in line)
    for setting in (
        "use-radius=yes",
        "radius-accounting=yes",
        "radius-interim-update=5m",
        "login-by=http-chap,http-pap",
        "https-redirect=no",
        'rate-limit=""',
    ):
        assert setting in profile
    garden = [line for line in text.splitlines() if "walled-garden" in line and " add " in line]
    assert len(garden) == 2 and all('dst-host="portal.cautiva.example"' in g for g in garden)
    # The probes are named only in the comment that warns against allowing them.
    for probe in PROBE_HOSTS:
        assert probe not in "\n".join(garden)


def test_routeros_login_page_forwards_every_variable() -> None:
    text = render_config(
        sample_point(NasType.MIKROTIK), RouterKind.ROUTEROS, settings=sample_settings()
    ).text
    literal = re.search(r'/file add name=\$page contents=("(?:[^"\\]|\\.)*")', text)
    assert literal is not None
    html = decode_ros_string(literal.group(1))
    url = f"{PORTAL}/p/cucuta-terminal?"
    assert html.count(url) == 2  # the refresh and the link
    query = html.split(url, 1)[1].split('"', 1)[0].split("&amp;")
    assert query == [
        f"{name}=$({name}-esc)"
        for name in (
            "mac",
            "ip",
            "link-login-only",
            "link-orig",
            "chap-id",
            "chap-challenge",
            "identity",
            "server-name",
            "error",
        )
    ]
    # Inside the RouterOS string every $ is escaped, or the router would substitute variables.
    assert "$(" not in literal.group(1).replace("\\$(", "")


def test_routeros_heartbeat(tmp_path: Path) -> None:
    text = render_config(
        sample_point(NasType.MIKROTIK), RouterKind.ROUTEROS, settings=sample_settings()
    ).text
    line = next(line for line in text.splitlines() if line.startswith("/system scheduler add"))
    assert 'name="cautiva-heartbeat" interval=5m start-time=startup' in line
    source = decode_ros_string(line.split("on-event=", 1)[1])
    assert check_routeros(source) == []
    key = heartbeat_key(SECRET_KEY, "cucuta-terminal")
    assert f'url="{PORTAL}/api/v1/points/cucuta-terminal/heartbeat"' in source
    assert "http-method=post" in source and f'"key={key}&uptime="' in source
    assert '"&load="' in source and "output=none" in source


def test_nasty_secret_stays_one_value(tmp_path: Path) -> None:
    settings = sample_settings()
    routeros = render_config(
        sample_point(NasType.MIKROTIK, radius_secret=NASTY_SECRET),
        RouterKind.ROUTEROS,
        settings=settings,
    ).text
    assert check_routeros(routeros) == []
    literal = re.search(r'secret=("(?:[^"\\]|\\.)*")', routeros)
    assert literal is not None and decode_ros_string(literal.group(1)) == NASTY_SECRET
    # uspot refuses ':' (radcli's server:port:secret), chilli '"' and '\\': others must survive.
    uspot_secret = NASTY_SECRET.replace('"', "").replace("\\", "")
    script = render_config(
        sample_point(NasType.USPOT, radius_secret=uspot_secret, ssid="it's $(reboot)"),
        RouterKind.OPENWRT_USPOT,
        settings=settings,
    ).text
    path = tmp_path / "uspot.sh"
    path.write_text(script)
    shell_ok(path)
    batches = uci_ok(script, tmp_path)
    secrets = [
        split_words(line)[1].split("=", 1)[1]
        for batch in batches
        for line in batch.splitlines()
        if "_secret=" in line and "uam_secret" not in line
    ]
    assert secrets and all(secret == uspot_secret for secret in secrets)
    ssid_line = next(line for line in script.splitlines() if line.startswith("SSID="))
    echoed = subprocess.run(
        ["sh", "-c", f'{ssid_line}\nprintf %s "$SSID"'], capture_output=True, text=True, check=True
    )
    assert echoed.stdout == "it's $(reboot)"


def test_refusals() -> None:
    settings = sample_settings()
    retired = sample_point(NasType.MIKROTIK, active=False)
    with pytest.raises(InvalidInput, match="retired"):
        render_config(retired, RouterKind.ROUTEROS, settings=settings)
    with pytest.raises(InvalidInput, match="--router routeros, not openwrt-chilli"):
        render_config(sample_point(NasType.MIKROTIK), RouterKind.OPENWRT_CHILLI, settings=settings)
    with pytest.raises(InvalidInput, match="--router openwrt-chilli, not routeros"):
        render_config(sample_point(NasType.CHILLI), RouterKind.ROUTEROS, settings=settings)
    with pytest.raises(InvalidInput, match="--router openwrt-uspot, not openwrt-chilli"):
        render_config(sample_point(NasType.USPOT), RouterKind.OPENWRT_CHILLI, settings=settings)
    quoted = sample_point(NasType.CHILLI, radius_secret='abcdefgh"ijklmnop')
    with pytest.raises(InvalidInput, match="CoovaChilli"):
        render_config(quoted, RouterKind.OPENWRT_CHILLI, settings=settings)
    colon = sample_point(NasType.USPOT, radius_secret="abcdefgh:ijklmnop")
    with pytest.raises(InvalidInput, match="uspot"):
        render_config(colon, RouterKind.OPENWRT_USPOT, settings=settings)
    with pytest.raises(InvalidInput, match="portal URL"):
        render_config(
            sample_point(NasType.MIKROTIK),
            RouterKind.ROUTEROS,
            settings=sample_settings(portal_url="https://portal.example/p?x=1"),
        )


def test_placeholder_without_radius_address(tmp_path: Path) -> None:
    settings = sample_settings(radius_address="", radius_address_2="")
    settings.portal.public_url = ""
    targets = router_targets(settings)
    assert targets.placeholder and targets.radius == (RADIUS_PLACEHOLDER,)
    assert targets.portal_url == f"http://{RADIUS_PLACEHOLDER}:8000"
    expected = {
        NasType.MIKROTIK: f'address="{RADIUS_PLACEHOLDER}"',
        NasType.CHILLI: f"radiusserver1='{RADIUS_PLACEHOLDER}'",
        NasType.USPOT: f"auth_server='{RADIUS_PLACEHOLDER}'",
    }
    for nas_type, kind in KINDS.items():
        text = render_config(sample_point(nas_type), kind, settings=settings).text
        assert f"NOT READY: replace {RADIUS_PLACEHOLDER}" in text
        assert expected[nas_type] in text
        # Without https there is no RFC 8908 API to announce (RFC 8908 section 2).
        assert "/api/v1/captive-portal" not in text


def test_single_server_plain_http_and_old_routeros(tmp_path: Path) -> None:
    settings = sample_settings(radius_address_2="", portal_url="http://192.0.2.5:8000")
    point = sample_point(NasType.MIKROTIK, require_message_authenticator=False, coa_port=1700)
    text = render_config(point, RouterKind.ROUTEROS, settings=settings).text
    assert check_routeros(text) == []
    assert (
        text.count("/radius add ") == 1
        and "require-message-auth" not in text.split("/radius add ", 1)[1].split("\n", 1)[0]
    )
    assert "Needs RouterOS 7.12 or later" in text and "port=1700" in text
    assert "dst-address=192.0.2.5 protocol=tcp dst-port=8000" in text
    assert "cautiva-captive-portal" not in text  # RFC 8908 wants https
    chilli = render_config(
        sample_point(NasType.CHILLI), RouterKind.OPENWRT_CHILLI, settings=settings
    ).text
    assert "radiusserver1='203.0.113.10'" in chilli
    assert "radiusserver2='203.0.113.10'" in chilli  # chilli wants both; the same is fine
    assert "uamserver='http://192.0.2.5:8000/p/rumichaca-1'" in chilli
    uspot = render_config(sample_point(NasType.USPOT), RouterKind.OPENWRT_USPOT, settings=settings)
    assert "auth_server2" not in uspot.text and "114," not in uspot.text
    assert "add_list firewall.cautiva_portal.entry='192.0.2.5'" in uspot.text
    uci_ok(uspot.text, tmp_path)


def test_scripts_replace_what_they_made() -> None:
    """Idempotent by construction: every object added is first found or removed by its tag."""
    settings = sample_settings()
    routeros = render_config(
        sample_point(NasType.MIKROTIK), RouterKind.ROUTEROS, settings=settings
    ).text
    for match in re.finditer(r"^\s*/([a-z -]+?) add ", routeros, re.MULTILINE):
        menu = match.group(1)
        before = routeros[: match.start()]
        assert f"/{menu} remove [find" in before or f"[/{menu} find " in before, menu
    for nas_type in (NasType.CHILLI, NasType.USPOT):
        script = render_config(sample_point(nas_type), KINDS[nas_type], settings=settings).text
        for batch in uci_batches(script):
            seen: set[str] = set()
            for line in batch.splitlines():
                words = split_words(line)
                if words[0] == "delete":
                    seen.add(words[1])
                elif words[0] == "set" and words[1].count(".") == 1:
                    assert words[1].split("=")[0] in seen, line


def test_openwrt_files() -> None:
    heartbeat = OPENWRT / "files" / "usr" / "bin" / "cautiva-heartbeat"
    assert heartbeat.read_text() == (TEMPLATES / "openwrt-heartbeat.sh").read_text()
    first_boot = OPENWRT / "files" / "etc" / "uci-defaults" / "90-cautiva"
    for path in (heartbeat, first_boot):
        shell_ok(path)
        assert os.access(path, os.X_OK), path


def test_openwrt_heartbeat_posts_uptime_and_load(tmp_path: Path) -> None:
    """Run the heartbeat with stand-ins for `uci` and `uclient-fetch` that record the call."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "uci").write_text(
        '#!/bin/sh\ncase "$3" in\n'
        "cautiva.heartbeat.url) echo https://portal.example/api/v1/points/p-1/heartbeat ;;\n"
        "cautiva.heartbeat.key) echo 0123456789abcdef0123456789abcdef ;;\n"
        "*) exit 1 ;;\nesac\n"
    )
    (bin_dir / "uclient-fetch").write_text(
        f'#!/bin/sh\nfor a in "$@"; do echo "$a"; done > {tmp_path / "call"}\n'
    )
    for stub in bin_dir.iterdir():
        stub.chmod(0o755)
    script = OPENWRT / "files" / "usr" / "bin" / "cautiva-heartbeat"
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    subprocess.run(["sh", str(script)], env=env, check=True, timeout=10)
    call = (tmp_path / "call").read_text().splitlines()
    assert call[-1] == "https://portal.example/api/v1/points/p-1/heartbeat"
    body = next(a for a in call if a.startswith("--post-data=")).removeprefix("--post-data=")
    assert re.fullmatch(
        r"key=0123456789abcdef0123456789abcdef&uptime=[0-9]+&load=[0-9]+\.[0-9]+", body
    ), body
