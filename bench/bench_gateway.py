"""Kaltura calls per listing through the gateway, and its overhead over one direct media.list.

Usage: .venv/bin/python -m bench --only gateway   (or: .venv/bin/python bench/bench_gateway.py)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import Figure, median_ms, table, timed
from kaltura_sandbox.testing import SandboxProcess
from portal.kaltura import GatewaySettings, KalturaGateway, parse_app_token

USER = "pat@northwind.example"


def collect(quick: bool = False) -> list[Figure]:
    """Calls per listing (cold, warm) and the gateway's list_media time against one direct media.list."""
    rounds = 30 if quick else 200
    with SandboxProcess(enable_control=True, conversion_delay=0) as sandbox:
        token, _ = parse_app_token(json.dumps(sandbox.credentials["clientAppToken"]), "client")
        assert token is not None
        with KalturaGateway(GatewaySettings(allowed_hosts=[sandbox.url])) as gateway:
            sandbox.control("calls/reset")
            gateway.list_media(sandbox.url, token, USER)
            cold = sum(sandbox.calls().values())
            sandbox.control("calls/reset")
            for _ in range(10):
                gateway.list_media(sandbox.url, token, USER)
            warm = sum(sandbox.calls().values()) / 10
            portal_times = timed(lambda: gateway.list_media(sandbox.url, token, USER), rounds)

            ks = gateway.start_session(sandbox.url, token, USER).ks
            session = requests.Session()
            body = {
                "format": 1,
                "ks": ks,
                "filter": {"objectType": "KalturaMediaEntryFilter", "orderBy": "-createdAt", "statusIn": "0,1,2,4,7"},
                "pager": {"objectType": "KalturaFilterPager", "pageSize": 30, "pageIndex": 1},
            }
            url = f"{sandbox.url}/api_v3/service/media/action/list"
            direct_times = timed(lambda: session.post(url, json=body, timeout=30).json(), rounds)
            session.close()
    return [
        Figure("gateway_calls_cold", cold, "calls", note="first listing: widget session, app session, media.list"),
        Figure("gateway_calls_per_listing", warm, "calls", note="session cached"),
        Figure(
            "gateway_list_ms",
            median_ms(portal_times),
            "ms",
            baseline=median_ms(direct_times),
            note=f"gateway list_media vs one direct media.list, median of {rounds}",
        ),
    ]


if __name__ == "__main__":
    print(table(collect(quick="--quick" in sys.argv)))
