"""The RouterOS and uci syntax checkers accept good scripts and reject broken ones."""

from __future__ import annotations

import pytest

from router_configs.quoting import ros_string, uci_quote
from router_configs.routeros_syntax import check_routeros
from router_configs.uci_syntax import check_uci_batch, split_words, uci_batches

GOOD = r"""
# comment lines are fine
/system identity set name="point-1"
/ip/hotspot/profile set [find name="cautiva"] login-by=http-chap,http-pap rate-limit=""
/radius
add service=hotspot address=192.0.2.1 secret="a\"b\$c\?d\\e" \
    timeout=3s comment="cautiva"
/radius incoming set accept=yes port=3799
:if ([:len [/ip pool find name="cautiva"]] = 0) do={
    /ip pool add name="cautiva" ranges=10.1.0.2-10.1.0.254
} else={
    /ip pool set [find name="cautiva"] ranges=10.1.0.2-10.1.0.254
}
{
    :local dir [/ip hotspot profile get [find name="cautiva"] html-directory]
    :if ([:pick $dir 0 1] = "/") do={ :set dir [:pick $dir 1 [:len $dir]] }
    /file add name=($dir . "/login.html") contents="<p>\C3\BA</p>\n"
}
:do { /tool fetch url="http://192.0.2.1/x" output=none } on-error={ :log warning "failed" }
"""


def test_accepts_a_good_script() -> None:
    assert check_routeros(GOOD) == []


@pytest.mark.parametrize(
    ("script", "problem"),
    [
        ('/system identity set name="point-1\n', "unbalanced quote"),
        ('/radius add secret="pa$word"', "unescaped '$'"),
        ('/radius add secret="what?"', "unescaped '?'"),
        ('/radius add secret="bad \\q escape"', "bad escape"),
        ("/ip hotspot profil set name=x", "unknown menu"),
        ("/ip hotspot profile", ""),  # a bare known path is fine
        ("/ip hotspots set name=x", "unknown menu"),
        ("/radius frobnicate", "unknown menu /radius frobnicate"),
        ("/radius fetch url=x", "unknown command 'fetch' in /radius"),
        ("/ip hotspot profile set radius-interm-update=5m", "unknown property"),
        ("/ip pool add name= ranges=10.1.0.2-10.1.0.9", "has no value"),
        ("/ip pool add =x", "without a property name"),
        ("/ip pool add name=a name=b", "given twice"),
        ('/ip pool add name=cautiva"x"', "quote the value"),
        ("/ip pool add name=$", "bad variable"),
        (':if ([:len [/ip pool find name="x"]] = 0 do={ }', "unbalanced"),
        (':put [:len [/ip pool find name="x"]', "unbalanced: missing ']'"),
        (":if (1 = 1) do={ /ip pool add name=x ", "unbalanced"),
        ("/ip pool add name=x }", "unbalanced"),
        (":frob 1", "unknown global command"),
        (":if (1 = 1)", ":if needs"),
        (':log loud "x"', ":log needs a level"),
        ("set name=x", "outside any menu"),
        ("/system resource get cpu-laod", "unknown property"),
        ('/radius add secret="raw\tcontrol"', "raw control character"),
    ],
)
def test_rejects_broken_scripts(script: str, problem: str) -> None:
    problems = check_routeros(script)
    if not problem:
        assert problems == []
        return
    assert len(problems) == 1 and problem in problems[0], problems
    assert problems[0].startswith("line ")


def test_quoted_values_always_parse() -> None:
    for value in ['"', "$(x)", "a;b", "\\", "?", "ñ ü", "\n\t", "[find]", "{ :put x }", "#"]:
        assert check_routeros(f"/ip pool add name={ros_string(value)}") == [], value


def test_uci_checker() -> None:
    good = (
        "delete chilli.cautiva\n"
        "set chilli.cautiva=chilli\n"
        f"set chilli.cautiva.radiussecret={uci_quote(chr(39) + 'x $y;z' + chr(34))}\n"
        "add_list firewall.cautiva_zone.device='tun0'\n"
        "set wireless.@wifi-iface[0].ssid=plain\n"
        "commit chilli\n"
        "commit\n"
    )
    assert check_uci_batch(good) == []
    assert split_words(good.splitlines()[2])[1] == "chilli.cautiva.radiussecret='x $y;z\""
    bad = {
        "set chilli.cautiva.radiussecret='open": "unbalanced single quote",
        'set chilli.cautiva.x="open': "unbalanced double quote",
        "set chilli.cautiva.x=": "empty value",
        "set chilli": "needs path=value",
        "set chilli.cautiva.x.y=1": "not config.section",
        "set chilli.cau-tiva.x=1": "bad section name",
        "set chilli.cautiva=two words": "takes one argument",
        "frob chilli.x": "unknown uci command",
        "add_list chilli.cautiva=x": "needs config.section.option",
        "delete chilli.cautiva=x": "takes no value",
        "set chilli.cautiva=bad.type": "bad section type",
    }
    for line, problem in bad.items():
        problems = check_uci_batch(line + "\n")
        assert len(problems) == 1 and problem in problems[0], (line, problems)


def test_uci_batches_come_from_quoted_heredocs() -> None:
    script = "uci -q batch <<'MARK'\nset a.b=c\nMARK\necho done\nuci batch <<'X'\ncommit\nX\n"
    assert uci_batches(script) == ["set a.b=c\n", "commit\n"]
    with pytest.raises(ValueError, match="unquoted"):
        uci_batches("uci batch <<MARK\nset a.b=$HOME\nMARK\n")
    with pytest.raises(ValueError, match="never ends"):
        uci_batches("uci batch <<'MARK'\nset a.b=c\n")
