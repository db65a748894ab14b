"""The picker's cost: Kaltura calls per page and per cold open, and its page time against one direct
``media.list`` of the same page to the same sandbox, with the sandbox adding 50 ms to every call.

The portal runs as it does in production (gunicorn.conf.py: gthread, keep-alive; one worker) on a fresh SQLite database;
the sandbox is its own process. Portal pages and direct calls are measured alternately in the same
run, so machine noise hits both alike. Figures are medians (and p90) of ``--rounds`` requests.

Usage: .venv/bin/python bench/bench_picker.py [--rounds 60] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kaltura_sandbox.testing import SandboxProcess  # noqa: E402
from portal import create_app, migrations  # noqa: E402
from portal.db import make_engine  # noqa: E402
from portal.kaltura import parse_app_token  # noqa: E402
from portal.kaltura.media import MediaQuery, free_text_for  # noqa: E402

HOST_ORIGIN = "http://127.0.0.1:9"  # a host application's origin (nothing needs to listen there)
USER = "pat@northwind.example"
PAGES = [{"page": p} for p in range(1, 9)] + [{"q": "drone"}, {"q": "harbour"}, {"type": "image"}, {"sort": "name"}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(database: str, sandbox: SandboxProcess, env: dict[str, str]) -> str:
    """Migrate, seed, connect the demo hub to the sandbox and let the host embed it; returns the secret."""
    engine = make_engine(database)
    migrations.migrate(engine, "head")
    engine.dispose()
    app = create_app(
        {
            "ENV": "development",
            "DATABASE_URL": database,
            "SECRET_KEY": env["PORTAL_SECRET_KEY"],
            "ENCRYPTION_KEYS": env["PORTAL_ENCRYPTION_KEYS"],
            "KALTURA_SANDBOX_URL": sandbox.url,
            "INSTANCE_PATH": env["BENCH_INSTANCE"],
        }
    )
    from portal.demo import seed_demo
    from portal.embed import services as embed_services
    from portal.integrations.services import Typed, save_connection
    from portal.models import Hub

    with app.app_context():
        db = app.extensions["db"]()
        seed_demo(db)
        hub = db.query(Hub).filter_by(slug="northwind").one()
        report = save_connection(
            db,
            gateway=app.extensions["kaltura"],
            vault=app.extensions["kaltura_vault"],
            hub=hub,
            actor=None,
            typed=Typed(
                service_url=sandbox.url,
                client_text=json.dumps(sandbox.credentials["clientAppToken"]),
                server_text=json.dumps(sandbox.credentials["serverAppToken"]),
            ),
        )
        assert report.saved, [e.message for e in report.problems]
        embed_services.add_origin(db, hub=hub, origin=HOST_ORIGIN, actor=None)
        created = embed_services.new_secret(
            db, hub=hub, keyring=app.extensions["kaltura_vault"].keyring, actor=None, grace=timedelta(hours=1)
        )
        db.close()
    app.extensions["kaltura"].close()
    return created.secret


def start_portal(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        # The production configuration (gthread, keep-alive), one worker so its session cache is the one measured.
        env={**env, "PORTAL_BIND": f"127.0.0.1:{port}", "PORTAL_WORKERS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the portal did not start")


def calls(sandbox: SandboxProcess) -> int:
    return sum(sandbox.calls().values())


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=60, help="measurements of each kind")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the sandbox adds to every call")
    args = parser.parse_args()

    from portal.embed.launch import mint_launch_token

    workdir = Path(tempfile.mkdtemp(prefix="bench-picker-"))
    database = f"sqlite:///{workdir / 'portal.sqlite3'}"
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "PORTAL_DATABASE_URL": database,
        "PORTAL_SECRET_KEY": secrets.token_urlsafe(48),
        "PORTAL_ENCRYPTION_KEYS": "b1:" + base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "BENCH_INSTANCE": str(workdir / "instance"),
    }
    with SandboxProcess(enable_control=True, conversion_delay=0) as sandbox:
        env["PORTAL_KALTURA_SANDBOX_URL"] = sandbox.url
        secret = prepare(database, sandbox, env)
        port = free_port()
        portal = start_portal(port, env)
        base = f"http://127.0.0.1:{port}"
        try:
            sandbox.control("latency", seconds=args.latency, action=None)
            web = requests.Session()

            # Cold open: the launch is verified, the member's identity is known, no session is cached.
            token = mint_launch_token(
                secret, hub="northwind", email=USER, origin=HOST_ORIGIN, audience="kaltura-hub-portal"
            )
            sandbox.control("calls/reset")
            started = time.perf_counter()
            opened = web.post(f"{base}/embed/picker", data={"launch_token": token}, headers={"Origin": HOST_ORIGIN})
            cold_ms = (time.perf_counter() - started) * 1000
            assert opened.status_code == 200, opened.text[:300]
            cold_calls = sandbox.calls()
            bearer = re.search(r'name="kaltura-picker-session" content="([^"]+)"', opened.text).group(1)
            headers = {"Authorization": f"Bearer {bearer}", "HX-Request": "true"}

            # Steady state: every page or search is one media.list.
            per_page: list[int] = []
            for params in PAGES:
                sandbox.control("calls/reset")
                answer = web.get(f"{base}/embed/picker/media", params=params, headers=headers)
                assert answer.status_code == 200
                per_page.append(calls(sandbox))

            # The same pages straight to the sandbox, with the same parameters and session type.
            client_token, _ = parse_app_token(json.dumps(sandbox.credentials["clientAppToken"]), "client")
            from portal.kaltura import GatewaySettings, KalturaGateway

            with KalturaGateway(GatewaySettings(allowed_hosts=[sandbox.url])) as gateway:
                ks = gateway.start_session(sandbox.url, client_token, USER, session_type=0).ks
            direct_url = f"{sandbox.url}/api_v3/service/media/action/list"
            kaltura = requests.Session()

            def direct_body(params: dict) -> dict:  # type: ignore[type-arg]
                query = MediaQuery(
                    free_text=free_text_for(params.get("q")), page=int(params.get("page", 1)), page_size=24
                )
                return {"format": 1, "ks": ks, "clientTag": "bench", **query.params()}

            portal_times, direct_times = [], []
            for round_number in range(args.rounds):
                params = {"page": 1 + round_number % 8}
                started = time.perf_counter()
                answer = web.get(f"{base}/embed/picker/media", params=params, headers=headers)
                portal_times.append(time.perf_counter() - started)
                assert answer.status_code == 200
                started = time.perf_counter()
                kaltura.post(direct_url, json=direct_body(params), timeout=30).json()
                direct_times.append(time.perf_counter() - started)
        finally:
            portal.terminate()
            portal.wait(timeout=10)

    portal_ms = statistics.median(portal_times) * 1000
    direct_ms = statistics.median(direct_times) * 1000
    print(f"sandbox latency added to every Kaltura call:   {args.latency * 1000:.0f} ms")
    print(f"cold open (launch verified, identity known):     {sum(cold_calls.values())} Kaltura calls {cold_calls}")
    print(f"cold open time:                                  {cold_ms:.1f} ms")
    print(f"Kaltura calls per page or search (steady):       {per_page}")
    print(f"portal picker page, median / p90:                {portal_ms:.1f} / {pct(portal_times, 0.9) * 1000:.1f} ms")
    print(f"direct media.list, median / p90:                 {direct_ms:.1f} / {pct(direct_times, 0.9) * 1000:.1f} ms")
    print(f"portal / direct (median), target <= 1.2:         {portal_ms / direct_ms:.3f}")
    print(f"({args.rounds} rounds each, alternating; portal under gunicorn.conf.py with 1 gthread worker, SQLite)")


if __name__ == "__main__":
    main()
