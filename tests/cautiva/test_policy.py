"""The session policy: every reason to refuse, what an Accept carries, and how time is counted."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from cautiva.models.points import NasType
from cautiva.policy import (
    Accept,
    GrantView,
    PointView,
    Reject,
    RejectReason,
    SessionRules,
    SessionUsage,
    decide,
    overrun,
    seconds_left,
    used_seconds,
)

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
MAC = "AA:BB:CC:DD:EE:FF"
OTHER_MAC = "11:22:33:44:55:66"
RULES = SessionRules(
    limit=3600,
    idle_timeout=600,
    interim_interval=300,
    grant_max_age=86400,
    overrun_grace=60,
    rate_down_kbps=2048,
    rate_up_kbps=1024,
)


def make_point(**changes: object) -> PointView:
    point = PointView(id=7, nas_type=NasType.MIKROTIK, active=True)
    return replace(point, **changes)


def make_grant(**changes: object) -> GrantView:
    grant = GrantView(
        id=42,
        point_id=7,
        mac=None,
        seconds_allowed=3600,
        login_deadline=NOW + timedelta(minutes=15),
    )
    return replace(grant, **changes)


def run(
    *,
    grant: GrantView | None = None,
    point: PointView | None = None,
    mac: str | None = MAC,
    used: int = 0,
    now: datetime = NOW,
    rules: SessionRules = RULES,
    no_grant: bool = False,
) -> Accept | Reject:
    return decide(
        grant=None if no_grant else (grant or make_grant()),
        point=point or make_point(),
        mac=mac,
        used=used,
        now=now,
        rules=rules,
    )


# --- Rejections -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        pytest.param({"no_grant": True}, RejectReason.UNKNOWN_CREDENTIAL, id="unknown"),
        pytest.param({"point": make_point(active=False)}, RejectReason.POINT_RETIRED, id="retired"),
        pytest.param({"grant": make_grant(point_id=8)}, RejectReason.WRONG_POINT, id="point"),
        pytest.param(
            {"grant": make_grant(mac=OTHER_MAC), "mac": MAC},
            RejectReason.WRONG_DEVICE,
            id="other-device",
        ),
        pytest.param(
            {"grant": make_grant(mac=MAC), "mac": None},
            RejectReason.WRONG_DEVICE,
            id="bound-grant-without-mac",
        ),
        pytest.param(
            {"grant": make_grant(revoked_at=NOW - timedelta(seconds=1))},
            RejectReason.REVOKED,
            id="revoked",
        ),
        pytest.param(
            {"grant": make_grant(login_deadline=NOW - timedelta(seconds=1))},
            RejectReason.LOGIN_EXPIRED,
            id="login-expired",
        ),
        pytest.param(
            {
                "grant": make_grant(
                    first_login_at=NOW - timedelta(seconds=RULES.grant_max_age + 1),
                    login_deadline=NOW - timedelta(days=2),
                )
            },
            RejectReason.GRANT_EXPIRED,
            id="grant-expired",
        ),
        pytest.param({"used": 3600}, RejectReason.TIME_USED, id="time-used"),
        pytest.param({"used": 5000}, RejectReason.TIME_USED, id="time-overused"),
    ],
)
def test_reject_reasons(kwargs: dict[str, object], reason: RejectReason) -> None:
    decision = run(**kwargs)  # type: ignore[arg-type]
    assert isinstance(decision, Reject)
    assert decision.reason is reason
    assert decision.message == reason.value


def test_retired_point_is_reported_even_without_a_grant() -> None:
    decision = run(point=make_point(active=False), no_grant=True)
    assert decision == Reject(RejectReason.POINT_RETIRED)


def test_login_deadline_only_matters_before_the_first_login() -> None:
    grant = make_grant(
        login_deadline=NOW - timedelta(hours=1), first_login_at=NOW - timedelta(hours=2)
    )
    assert isinstance(run(grant=grant), Accept)


def test_login_deadline_is_inclusive() -> None:
    assert isinstance(run(grant=make_grant(login_deadline=NOW)), Accept)


def test_grant_max_age_is_counted_from_the_first_login() -> None:
    first = NOW - timedelta(seconds=RULES.grant_max_age)
    grant = make_grant(first_login_at=first, login_deadline=first)
    assert isinstance(run(grant=grant), Accept)
    assert run(grant=grant, now=NOW + timedelta(seconds=1)) == Reject(RejectReason.GRANT_EXPIRED)


def test_every_reason_has_a_non_empty_distinct_message() -> None:
    messages = [reason.value for reason in RejectReason]
    assert all(messages)
    assert len(set(messages)) == len(messages)


# --- Accept ---------------------------------------------------------------------------------


def test_accept_session_timeout_is_the_time_left() -> None:
    decision = run(used=1000)
    assert isinstance(decision, Accept)
    assert decision.session_timeout == 2600
    assert dict(decision.reply)["Session-Timeout"] == 2600


def test_accept_session_timeout_is_capped_by_the_session_limit() -> None:
    rules = replace(RULES, limit=1800)
    decision = run(grant=make_grant(seconds_allowed=7200), rules=rules, used=100)
    assert isinstance(decision, Accept)
    assert decision.session_timeout == 1700


def test_accept_session_timeout_is_capped_by_the_grant() -> None:
    decision = run(grant=make_grant(seconds_allowed=600))
    assert isinstance(decision, Accept)
    assert decision.session_timeout == 600


def test_one_second_left_is_still_accepted() -> None:
    decision = run(used=3599)
    assert isinstance(decision, Accept)
    assert decision.session_timeout == 1


@pytest.mark.parametrize(
    ("grant_mac", "mac", "bind"),
    [
        pytest.param(None, MAC, True, id="unbound-grant-binds"),
        pytest.param(None, None, False, id="no-mac-nothing-to-bind"),
        pytest.param(MAC, MAC, False, id="already-bound"),
    ],
)
def test_accept_bind_mac(grant_mac: str | None, mac: str | None, bind: bool) -> None:
    decision = run(grant=make_grant(mac=grant_mac), mac=mac)
    assert isinstance(decision, Accept)
    assert decision.bind_mac is bind


def test_accept_first_login_flag() -> None:
    first = run(grant=make_grant())
    again = run(grant=make_grant(first_login_at=NOW - timedelta(minutes=10)))
    assert isinstance(first, Accept)
    assert isinstance(again, Accept)
    assert first.first_login is True
    assert again.first_login is False


def test_accept_common_reply_attributes() -> None:
    decision = run(used=60)
    assert isinstance(decision, Accept)
    reply = dict(decision.reply)
    assert reply["Session-Timeout"] == 3540
    assert reply["Idle-Timeout"] == RULES.idle_timeout
    assert reply["Acct-Interim-Interval"] == RULES.interim_interval
    assert reply["Class"] == "cautiva:grant:42"


def test_class_names_the_grant() -> None:
    decision = run(grant=make_grant(id=9001))
    assert isinstance(decision, Accept)
    assert ("Class", "cautiva:grant:9001") in decision.reply


def _vendor_attributes(decision: Accept) -> dict[str, object]:
    common = {"Session-Timeout", "Idle-Timeout", "Acct-Interim-Interval", "Class"}
    return {name: value for name, value in decision.reply if name not in common}


def test_mikrotik_rate_limit_is_upload_over_download() -> None:
    decision = run(point=make_point(nas_type=NasType.MIKROTIK))
    assert isinstance(decision, Accept)
    # rx/tx from the router's side: rx is the client's upload (1024k), tx its download.
    assert _vendor_attributes(decision) == {"Mikrotik-Rate-Limit": "1024k/2048k"}


def test_chilli_gets_chillispot_kbps_and_wispr_bps() -> None:
    decision = run(point=make_point(nas_type=NasType.CHILLI))
    assert isinstance(decision, Accept)
    assert _vendor_attributes(decision) == {
        "ChilliSpot-Bandwidth-Max-Up": 1024,
        "ChilliSpot-Bandwidth-Max-Down": 2048,
        "WISPr-Bandwidth-Max-Up": 1_024_000,
        "WISPr-Bandwidth-Max-Down": 2_048_000,
    }


def test_uspot_gets_only_wispr() -> None:
    decision = run(point=make_point(nas_type=NasType.USPOT))
    assert isinstance(decision, Accept)
    assert _vendor_attributes(decision) == {
        "WISPr-Bandwidth-Max-Up": 1_024_000,
        "WISPr-Bandwidth-Max-Down": 2_048_000,
    }


@pytest.mark.parametrize(
    ("nas_type", "expected"),
    [
        (NasType.MIKROTIK, {"Mikrotik-Rate-Limit": "256k/4096k"}),
        (
            NasType.CHILLI,
            {
                "ChilliSpot-Bandwidth-Max-Up": 256,
                "ChilliSpot-Bandwidth-Max-Down": 4096,
                "WISPr-Bandwidth-Max-Up": 256_000,
                "WISPr-Bandwidth-Max-Down": 4_096_000,
            },
        ),
        (
            NasType.USPOT,
            {"WISPr-Bandwidth-Max-Up": 256_000, "WISPr-Bandwidth-Max-Down": 4_096_000},
        ),
    ],
)
def test_point_rates_override_the_rules(nas_type: NasType, expected: dict[str, object]) -> None:
    point = make_point(nas_type=nas_type, rate_down_kbps=4096, rate_up_kbps=256)
    decision = run(point=point)
    assert isinstance(decision, Accept)
    assert _vendor_attributes(decision) == expected


def test_one_point_rate_overrides_only_its_direction() -> None:
    decision = run(point=make_point(rate_up_kbps=512))
    assert isinstance(decision, Accept)
    assert _vendor_attributes(decision) == {"Mikrotik-Rate-Limit": "512k/2048k"}


def test_no_bandwidth_attributes_when_both_rates_are_zero() -> None:
    rules = replace(RULES, rate_down_kbps=0, rate_up_kbps=0)
    decision = run(point=make_point(nas_type=NasType.CHILLI), rules=rules)
    assert isinstance(decision, Accept)
    assert _vendor_attributes(decision) == {}


# --- Counting time --------------------------------------------------------------------------


def test_used_seconds_of_no_sessions_is_zero() -> None:
    assert used_seconds([], NOW) == 0


def test_used_seconds_of_stopped_sessions_is_their_session_time() -> None:
    sessions = [
        SessionUsage(session_time=600, updated_at=NOW - timedelta(hours=2), stopped=True),
        SessionUsage(session_time=300, updated_at=NOW - timedelta(hours=1), stopped=True),
    ]
    assert used_seconds(sessions, NOW) == 900


def test_used_seconds_counts_a_running_session_up_to_now() -> None:
    running = SessionUsage(session_time=600, updated_at=NOW - timedelta(seconds=120), stopped=False)
    assert used_seconds([running], NOW) == 720
    assert used_seconds([running], NOW + timedelta(seconds=30)) == 750


def test_used_seconds_mixes_stopped_and_running() -> None:
    sessions = [
        SessionUsage(session_time=1000, updated_at=NOW - timedelta(hours=1), stopped=True),
        SessionUsage(session_time=200, updated_at=NOW - timedelta(seconds=50), stopped=False),
    ]
    assert used_seconds(sessions, NOW) == 1250


def test_used_seconds_ignores_negative_and_future_values() -> None:
    sessions = [
        SessionUsage(session_time=-5, updated_at=NOW, stopped=True),
        SessionUsage(session_time=100, updated_at=NOW + timedelta(seconds=30), stopped=False),
    ]
    assert used_seconds(sessions, NOW) == 100


@pytest.mark.parametrize(
    ("allowed", "limit", "used", "left"),
    [
        (3600, 3600, 0, 3600),
        (3600, 3600, 3599, 1),
        (3600, 3600, 3600, 0),
        (3600, 3600, 9999, 0),
        (7200, 1800, 100, 1700),
        (600, 3600, 100, 500),
    ],
)
def test_seconds_left(allowed: int, limit: int, used: int, left: int) -> None:
    grant = make_grant(seconds_allowed=allowed)
    assert seconds_left(grant, used, replace(RULES, limit=limit)) == left


@pytest.mark.parametrize(
    ("allowed", "limit", "grace", "used", "expected"),
    [
        (3600, 3600, 60, 3600, False),
        (3600, 3600, 60, 3660, False),
        (3600, 3600, 60, 3661, True),
        (3600, 3600, 0, 3601, True),
        (7200, 1800, 60, 1861, True),
        (7200, 1800, 60, 1860, False),
        (600, 3600, 60, 661, True),
        (600, 3600, 60, 660, False),
    ],
)
def test_overrun_allows_the_grace_period(
    allowed: int, limit: int, grace: int, used: int, expected: bool
) -> None:
    rules = replace(RULES, limit=limit, overrun_grace=grace)
    assert overrun(grant=make_grant(seconds_allowed=allowed), used=used, rules=rules) is expected
