"""The picker's cost: Kaltura calls per page and per cold open, and its page time against one direct
``media.list`` of the same page to the same sandbox, with the sandbox adding 50 ms to every call.

The portal runs under gunicorn.conf.py (gthread, keep-alive) with one worker, so its session cache
is the one measured, on a fresh SQLite database; the sandbox is its own process. Portal pages and
direct calls are measured alternately in the same run, so machine noise hits both alike. Figures
are medians of the rounds.

Usage: .venv/bin/python -m bench --only picker   (or: .venv/bin/python bench/bench_picker.py [--quick])
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import stack
from bench.figures import Figure, table
from kaltura_sandbox.testing import SandboxProcess
from portal.kaltura import GatewaySettings, KalturaGateway, parse_app_token
from portal.kaltura.media import MediaQuery, free_text_for

USER = "pat@northwind.example"
LATENCY = 0.05
PAGES = [{"page": p} for p in range(1, 9)] + [{"q": "drone"}, {"q": "harbour"}, {"type": "image"}, {"sort": "name"}]
SEARCHES = [{"q": "drone"}, {"q": "harb"}, {"q": "harbour dro"}, {"q": "town hall"}, {"q": "safety", "type": "video"}]


def calls(sandbox: SandboxProcess) -> int:
    return sum(sandbox.calls().values())


def collect(quick: bool = False) -> list[Figure]:
    """Calls per cold open, per page and per search, and the page time against one direct media.list."""
    rounds = 15 if quick else 60
    workdir = Path(tempfile.mkdtemp(prefix="bench-picker-"))
    database = f"sqlite:///{workdir / 'portal.sqlite3'}"
    with SandboxProcess(enable_control=True, conversion_delay=0) as sandbox:
        env = stack.portal_env(database, sandbox_url=sandbox.url, workdir=workdir, production=False)
        secret = stack.prepare(env, sandbox)
        with stack.Gunicorn(env, workers=1) as node:
            base = node.url
            sandbox.control("latency", seconds=LATENCY, action=None)
            web = requests.Session()

            # Cold open: the launch is verified, the member's identity is known, no session is cached.
            sandbox.control("calls/reset")
            opened = web.post(
                f"{base}/embed/picker",
                data={"launch_token": stack.launch_token(secret, USER)},
                headers={"Origin": stack.HOST_ORIGIN},
                timeout=60,
            )
            assert opened.status_code == 200, opened.text[:300]
            cold = calls(sandbox)
            found = re.search(r'name="kaltura-picker-session" content="([^"]+)"', opened.text)
            assert found is not None
            headers = {"Authorization": f"Bearer {found.group(1)}", "HX-Request": "true"}

            # Steady state: every page and every search is one media.list.
            def cost(params: dict[str, object]) -> int:
                sandbox.control("calls/reset")
                answer = web.get(f"{base}/embed/picker/media", params=params, headers=headers, timeout=60)
                assert answer.status_code == 200, answer.text[:300]
                return calls(sandbox)

            per_page = [cost(params) for params in PAGES]
            per_search = [cost(params) for params in SEARCHES]

            # The same pages straight to the sandbox, with the same parameters and session type.
            client_token, _ = parse_app_token(json.dumps(sandbox.credentials["clientAppToken"]), "client")
            assert client_token is not None
            with KalturaGateway(GatewaySettings(allowed_hosts=[sandbox.url])) as gateway:
                ks = gateway.start_session(sandbox.url, client_token, USER, session_type=0).ks
            direct_url = f"{sandbox.url}/api_v3/service/media/action/list"
            kaltura = requests.Session()

            def direct_body(page: int) -> dict[str, object]:
                query = MediaQuery(free_text=free_text_for(None), page=page, page_size=24)
                return {"format": 1, "ks": ks, "clientTag": "bench", **query.params()}

            portal_times, direct_times = [], []
            for round_number in range(rounds):
                page = 1 + round_number % 8
                started = time.perf_counter()
                answer = web.get(f"{base}/embed/picker/media", params={"page": page}, headers=headers, timeout=60)
                portal_times.append(time.perf_counter() - started)
                assert answer.status_code == 200
                started = time.perf_counter()
                kaltura.post(direct_url, json=direct_body(page), timeout=30).json()
                direct_times.append(time.perf_counter() - started)
            kaltura.close()
            web.close()

    portal_ms = statistics.median(portal_times) * 1000
    direct_ms = statistics.median(direct_times) * 1000
    return [
        Figure("picker_calls_cold", cold, "calls", note="opening the picker: launch verified, no session cached"),
        Figure(
            "picker_calls_per_page",
            statistics.mean(per_page),
            "calls",
            note=f"steady state, mean over {len(PAGES)} pages, filters and sorts (max {max(per_page)})",
        ),
        Figure(
            "picker_calls_per_search",
            statistics.mean(per_search),
            "calls",
            note=f"steady state, mean over {len(SEARCHES)} searches (max {max(per_search)})",
        ),
        Figure("picker_page_ms", portal_ms, "ms", baseline=direct_ms, note="picker page vs one direct media.list"),
        Figure(
            "picker_page_ratio",
            portal_ms / direct_ms,
            "x",
            note=f"picker page ÷ direct media.list (target ≤ 1.2); median of {rounds}, sandbox +50 ms",
        ),
    ]


if __name__ == "__main__":
    print(table(collect(quick="--quick" in sys.argv)))
