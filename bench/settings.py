"""The bench's knobs: environment variables, overridden by command-line flags."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench.postgres import Postgres

ROOT = Path(__file__).resolve().parent.parent
SERVERS = ("cautiva", "freeradius", "portal", "export")
"""The parts of the bench: the two RADIUS servers, Cautiva's splash portal, and its exports."""

HELP = """environment (defaults in brackets):
  BENCH_SECONDS            measured seconds per RADIUS run [10]
  BENCH_WARMUP             unmeasured seconds before each run (portal: at most 1) [2]
  BENCH_USERS              distinct users / request templates [1000]
  BENCH_CONCURRENCY        requests in flight, comma-separated [1,64]
  BENCH_ROUNDS             runs per figure; the median by throughput is shown [1]
  BENCH_RADCLIENT_REQUESTS requests per radclient cross-check, 0 to skip [10000]
  BENCH_TIMEOUT            seconds before a request counts as lost [3]
  BENCH_MAX_REQUESTS       cap on requests per run [2000000]
  BENCH_SERVERS            which parts to measure [cautiva,freeradius,portal,export]
  BENCH_PORTAL_SECONDS     measured seconds per portal load (splash, API, HTML flow) [10]
  BENCH_PORTAL_CLIENTS     concurrent HTTP clients on the portal [50]
  BENCH_EXPORT_RESPONSES   survey responses generated for the export part [1000000]
  BENCH_OUT                where run artefacts go [bench/out]
  BENCH_PG_HOST, BENCH_PG_PORT, BENCH_PG_USER   PostgreSQL [127.0.0.1, 5432, postgres]
"""


@dataclass(frozen=True, slots=True)
class BenchConfig:
    """Everything a bench run needs to know."""

    seconds: float = 10.0
    warmup: float = 2.0
    users: int = 1000
    concurrency: tuple[int, ...] = (1, 64)
    rounds: int = 1
    radclient_requests: int = 10_000
    timeout: float = 3.0
    max_requests: int = 2_000_000
    servers: tuple[str, ...] = SERVERS
    out_dir: Path = ROOT / "bench" / "out"
    pg: Postgres = field(default_factory=Postgres)
    portal_seconds: float = 10.0
    portal_clients: int = 50
    export_responses: int = 1_000_000
    quick: bool = False

    @property
    def peak_concurrency(self) -> int:
        """The largest number of requests in flight (the one the ratios compare)."""
        return max(self.concurrency)


def _env_float(name: str, default: float, low: float, high: float) -> float:
    value = float(os.environ.get(name, default))
    if not low <= value <= high:
        raise ValueError(f"{name}={value} is outside {low}..{high}")
    return value


def _env_int(name: str, default: int, low: int, high: int) -> int:
    return int(_env_float(name, default, low, high))


def _servers(text: str) -> tuple[str, ...]:
    chosen = tuple(s.strip().lower() for s in text.split(",") if s.strip())
    unknown = [s for s in chosen if s not in SERVERS]
    if unknown or not chosen:
        raise ValueError(f"servers must be among {', '.join(SERVERS)}, got {text!r}")
    return chosen


def from_env() -> BenchConfig:
    """Build the configuration from BENCH_* environment variables."""
    concurrency = tuple(
        int(part) for part in os.environ.get("BENCH_CONCURRENCY", "1,64").split(",") if part
    )
    if not concurrency or any(not 1 <= n <= 256 for n in concurrency):
        raise ValueError("BENCH_CONCURRENCY must list numbers between 1 and 256")
    return BenchConfig(
        seconds=_env_float("BENCH_SECONDS", 10.0, 0.5, 120.0),
        warmup=_env_float("BENCH_WARMUP", 2.0, 0.0, 60.0),
        users=_env_int("BENCH_USERS", 1000, 1, 5000),
        concurrency=concurrency,
        rounds=_env_int("BENCH_ROUNDS", 1, 1, 9),
        radclient_requests=_env_int("BENCH_RADCLIENT_REQUESTS", 10_000, 0, 200_000),
        timeout=_env_float("BENCH_TIMEOUT", 3.0, 0.1, 30.0),
        max_requests=_env_int("BENCH_MAX_REQUESTS", 2_000_000, 100, 50_000_000),
        servers=_servers(os.environ.get("BENCH_SERVERS", ",".join(SERVERS))),
        out_dir=Path(os.environ.get("BENCH_OUT", str(ROOT / "bench" / "out"))).resolve(),
        pg=Postgres.from_env(),
        portal_seconds=_env_float("BENCH_PORTAL_SECONDS", 10.0, 0.5, 120.0),
        portal_clients=_env_int("BENCH_PORTAL_CLIENTS", 50, 1, 500),
        export_responses=_env_int("BENCH_EXPORT_RESPONSES", 1_000_000, 1000, 20_000_000),
    )


def parse(argv: Sequence[str]) -> BenchConfig:
    """Parse the command line over the environment's configuration."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "Measure Cautiva's RADIUS server and FreeRADIUS + rlm_sql in the same run, "
            "then Cautiva's splash portal and its exports (a million survey responses)."
        ),
        epilog=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run (~2 minutes)")
    parser.add_argument("--only", choices=SERVERS, help="measure one part only")
    parser.add_argument(
        "--seconds", type=float, help="measured seconds per run (RADIUS and portal alike)"
    )
    parser.add_argument("--rounds", type=int, help="runs per figure (median shown)")
    args = parser.parse_args(list(argv))
    config = from_env()
    if args.quick:
        config = replace(
            config,
            seconds=2.0,
            warmup=0.5,
            users=min(config.users, 200),
            rounds=1,
            radclient_requests=min(config.radclient_requests, 2000),
            portal_seconds=min(config.portal_seconds, 2.0),
            export_responses=min(config.export_responses, 100_000),
            quick=True,
        )
    if args.only:
        config = replace(config, servers=(args.only,))
    if args.seconds is not None:
        seconds = max(0.5, min(args.seconds, 120.0))
        config = replace(config, seconds=seconds, portal_seconds=seconds)
    if args.rounds is not None:
        config = replace(config, rounds=max(1, min(args.rounds, 9)))
    if config.users < config.peak_concurrency:
        raise SystemExit(f"BENCH_USERS ({config.users}) must be at least the largest concurrency")
    return config
