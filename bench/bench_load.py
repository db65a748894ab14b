"""The picker under load, and under load while Kaltura misbehaves: gunicorn on PostgreSQL and Redis.

The portal runs as in production (``gunicorn.conf.py``, ``PORTAL_ENV=production``, its default
number of workers, PostgreSQL, Redis for rate limits and the Kaltura session cache) behind plain
HTTP, as it does behind a load balancer that terminates TLS. The sandbox adds 50 ms to every call.
Locust (headless, ``bench/locustfile.py``) runs 50 participants who each open the picker with
their own launch token and then search, page and filter, pausing 0.25–1.25 s between actions.

Figures:

* ``load_rps``, ``load_p50_ms`` / ``p95`` / ``p99``, ``load_errors``: 60 s of that load in steady
  state (from the moment every participant has the picker open; the launches, each minting its
  member's session, come first); ``load_p50_ms`` compared with one picker page on the idle portal
  measured just before (so the ratio is what the load costs);
* ``fault_load_500s``, ``fault_error_states``, ``fault_unexplained``, ``fault_max_ms``,
  ``fault_recovery_s``: the same load for 60 s while the sandbox fails 5 % of calls (HTTP 503,
  dropped connections, an in-band error, and calls that hang for a minute) and delays every other
  call by 200 ms; then the faults stop and the load goes on for 20 s. No answer may be a 500, and
  every failed one must be the picker's error state (the portal retries a failed read up to three
  times, so most faults never reach a participant); the slowest answer is compared with the
  picker's time budget (``PORTAL_PICKER_KALTURA_BUDGET``, 15 s), which also cuts an attempt under
  way; the recovery is the time from the faults' end to the last failed answer to a request sent
  after it (0 when there is none).

PostgreSQL and Redis: ``BENCH_DATABASE_URL`` (default: database ``portal_bench`` on
``postgresql+psycopg://postgres@127.0.0.1:5432``, re-created) and ``BENCH_REDIS_URL`` (default
``redis://127.0.0.1:6379/14``).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import stack
from bench.figures import Figure, table
from kaltura_sandbox.testing import SandboxProcess

USERS = 50
LATENCY = 0.05
#: The fault mix: 5 % of calls fail in one of these ways, every other call waits 200 ms.
FAULTS = (
    {"kind": "http_503", "rate": 0.015},
    {"kind": "drop", "rate": 0.01},
    {"kind": "api_error", "rate": 0.01, "code": "INTERNAL_SERVERL_ERROR"},
    {"kind": "stall", "rate": 0.015, "seconds": 60},
    {"kind": "delay", "rate": 1.0, "seconds": 0.2},
)
PICKER_KINDS = ("page", "search", "filter")
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LOCUST = stack.ROOT / ".venv" / "bin" / "locust"


def collect(quick: bool = False) -> list[Figure]:
    """Run the plain load, then the fault load, and return their figures."""
    seconds, fault_seconds, after_seconds = (10, 10, 8) if quick else (60, 60, 20)
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    database = os.environ.get("BENCH_DATABASE_URL") or stack.create_postgres_database(ADMIN_URL, "portal_bench")
    redis_url = os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/14"
    _check_redis(redis_url)
    with SandboxProcess(enable_control=True, conversion_delay=0) as sandbox:
        env = stack.portal_env(database, sandbox_url=sandbox.url, workdir=workdir, redis_url=redis_url)
        secret = stack.prepare(env, sandbox)
        budget = 15.0  # PORTAL_PICKER_KALTURA_BUDGET's default, which this portal runs with
        with stack.Gunicorn(env, workers=None) as node:
            sandbox.control("latency", seconds=LATENCY, action=None)
            idle_ms = _idle_page_ms(node.url, secret, rounds=10 if quick else 40)

            plain = _run_locust(node.url, secret, workdir / "plain", seconds + 5)
            # Steady state: from the moment every participant has the picker open (launches are
            # cold: each mints its member's Kaltura session) to the end.
            opened = max(r["end"] for r in plain if r["kind"] == "launch")
            picker = [r for r in plain if r["kind"] in PICKER_KINDS and r["start"] >= opened]
            durations = [(r["end"] - r["start"]) * 1000 for r in picker]
            span = max(r["end"] for r in picker) - min(r["start"] for r in picker)
            errors = sum(1 for r in plain if r["status"] != 200)

            faults_at = time.time() + 3  # after every participant has opened the picker
            cleared: dict[str, float] = {}
            timer = threading.Thread(
                target=_fault_window, args=(sandbox, faults_at, fault_seconds, cleared), daemon=True
            )
            timer.start()
            faulty = _run_locust(node.url, secret, workdir / "faults", 3 + fault_seconds + after_seconds)
            timer.join()
            sandbox.control("fault_rate/clear")
            hits = sandbox.control("fault_rates")["hits"]
            injected = sum(count for kind, count in hits.items() if kind != "delay")
            stop = cleared["at"]
            in_faults = [r for r in faulty if r["kind"] in PICKER_KINDS and faults_at <= r["start"] < stop]
            failed = [r for r in faulty if r["status"] != 200]
            after = [r for r in failed if r["start"] >= stop]
            recovery = max((r["end"] - stop for r in after), default=0.0)
            slowest = max(((r["end"] - r["start"]) * 1000 for r in in_faults), default=0.0)
    pct = _percentiles(durations)
    note = f"{USERS} participants, {seconds} s steady, gunicorn on PostgreSQL + Redis, sandbox +{LATENCY * 1000:.0f} ms"
    return [
        Figure("load_rps", len(picker) / span, "req/s", note=f"picker answers per second; {note}"),
        Figure(
            "load_p50_ms",
            pct[50],
            "ms",
            baseline=idle_ms,
            note="median picker answer under load vs one page on the idle portal",
        ),
        Figure("load_p95_ms", pct[95], "ms", note="95th percentile under load"),
        Figure("load_p99_ms", pct[99], "ms", note="99th percentile under load"),
        Figure("load_errors", errors, "answers", note=f"not 200, of all {len(plain)} answers (launches included)"),
        Figure(
            "fault_injected",
            injected,
            "calls",
            note=f"Kaltura calls the sandbox failed ({', '.join(f'{k} {v}' for k, v in hits.items())}); "
            "the portal retries reads, so most never reach a participant",
        ),
        Figure(
            "fault_load_500s",
            sum(1 for r in faulty if r["status"] == 500),
            "answers",
            note=f"HTTP 500 while Kaltura fails 5 % of calls and delays the rest 200 ms ({len(faulty)} answers)",
        ),
        Figure(
            "fault_error_states",
            sum(1 for r in failed if r["error_state"]),
            "answers",
            note="failed answers that were the picker's error state (what to do, controls kept)",
        ),
        Figure(
            "fault_unexplained",
            sum(1 for r in failed if not r["error_state"]),
            "answers",
            note="failed answers without the picker's error state (a dropped connection counts here)",
        ),
        Figure(
            "fault_max_ms",
            slowest,
            "ms",
            baseline=budget * 1000,
            note="slowest picker answer during the faults vs the picker's time budget",
        ),
        Figure(
            "fault_recovery_s",
            recovery,
            "s",
            note="from the faults' end to the last failed answer to a request sent after it",
        ),
    ]


def _check_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        raise RuntimeError(f"bench_load needs Redis at {url} (set BENCH_REDIS_URL): {error}") from error


def _idle_page_ms(url: str, secret: str, rounds: int) -> float:
    """The median time of one picker page on the idle portal (session warm), as the load's baseline."""
    web = requests.Session()
    opened = web.post(
        url + "/embed/picker",
        data={"launch_token": stack.launch_token(secret, "idle.reader@northwind.example", name="Idle Reader")},
        headers={"Origin": stack.HOST_ORIGIN},
        timeout=60,
    )
    opened.raise_for_status()
    bearer = opened.text.split('name="kaltura-picker-session" content="', 1)[1].split('"', 1)[0]
    headers = {"Authorization": f"Bearer {bearer}", "HX-Request": "true"}
    samples = []
    for number in range(rounds):
        started = time.perf_counter()
        web.get(url + "/embed/picker/media", params={"page": 1 + number % 4}, headers=headers, timeout=60)
        samples.append((time.perf_counter() - started) * 1000)
    web.close()
    return statistics.median(samples)


def _fault_window(sandbox: SandboxProcess, start: float, seconds: float, cleared: dict[str, float]) -> None:
    time.sleep(max(0.0, start - time.time()))
    for rule in FAULTS:
        sandbox.control("fault_rate", **rule)
    time.sleep(seconds)
    sandbox.control("fault_rate/clear")
    cleared["at"] = time.time()


def _run_locust(url: str, secret: str, directory: Path, seconds: int) -> list[dict[str, Any]]:
    """Run locust headless for ``seconds`` and return its raw records."""
    directory.mkdir(parents=True, exist_ok=True)
    tokens = directory / "tokens.json"
    # One launch token per participant, each usable once (its jti), as a host's backend makes them.
    emails = [f"participant{n:02d}@northwind.example" for n in range(USERS)]
    tokens.write_text(json.dumps([stack.launch_token(secret, e, name=f"Participant {e[11:13]}") for e in emails]))
    records = directory / "records.jsonl"
    env = {
        **os.environ,
        "BENCH_LOAD_TOKENS": str(tokens),
        "BENCH_LOAD_RECORDS": str(records),
        "BENCH_LOAD_ORIGIN": stack.HOST_ORIGIN,
    }
    command = [
        str(LOCUST),
        "-f",
        str(stack.ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--users",
        str(USERS),
        "--spawn-rate",
        str(USERS),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "40",
        "--host",
        url,
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    with open(directory / "locust.log", "wb") as log:
        subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT, check=True, timeout=seconds + 120)
    return [json.loads(line) for line in records.read_text().splitlines() if line.strip()]


def _percentiles(samples: list[float]) -> dict[int, float]:
    ordered = sorted(samples)
    return {q: ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] for q in (50, 95, 99)}


if __name__ == "__main__":
    print(table(collect(quick="--quick" in sys.argv)))
